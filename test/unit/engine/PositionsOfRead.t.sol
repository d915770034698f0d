// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MarginEngine} from "../../../contracts/engine/MarginEngine.sol";
import {PortfolioManager} from "../../../contracts/engine/PortfolioManager.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @dev A market whose `positionsOf` returns (or reverts with) whatever bytes it is given.
contract RawPositionsMarket {
    bytes internal raw;
    bool internal reverts;

    function set(bytes calldata raw_, bool reverts_) external {
        raw = raw_;
        reverts = reverts_;
    }

    function positionsOf(AccountId) external view returns (SeriesId[] memory, int256[] memory) {
        bytes memory r = raw;
        if (reverts) {
            assembly {
                revert(add(r, 0x20), mload(r))
            }
        }
        assembly {
            return(add(r, 0x20), mload(r))
        }
    }
}

/// @title The engine's in-place read of `market.positionsOf` (review rv29s P3-2)
/// @notice `StandardManager._positionsOf` uses the two arrays where the return data lands instead of
/// the ABI decoder's copy, so it makes the decoder's checks itself: the head (two offsets) inside
/// the data, each length word inside it, and each array's elements inside it. Malformed data
/// reverts with no data; it must never be read past its end (memory beyond it is not the
/// market's answer). A market's own revert bubbles up unchanged.
contract PositionsOfReadTest is PledgeFixture {
    MarginEngine internal engine2;
    RawPositionsMarket internal raw;
    AccountId internal account;
    SeriesId internal call7;

    function setUp() public override {
        super.setUp();
        raw = new RawPositionsMarket();
        engine2 = new MarginEngine(address(this), vault, oracle, type(PortfolioManager).creationCode);
        engine2.listUnderlying(address(weth), _standardParams());
        engine2.setMarket(address(raw));
        account = _account(alice, 9);
        call7 = SeriesLib.id(SeriesLib.Series(1, _expiry(7), true, 3_000e18));
    }

    function _one(int256 balance) internal view returns (bytes memory) {
        SeriesId[] memory ids = new SeriesId[](1);
        int256[] memory balances = new int256[](1);
        (ids[0], balances[0]) = (call7, balance);
        return abi.encode(ids, balances);
    }

    /// @dev `data` without its last `words` words.
    function _cut(bytes memory data, uint256 words) internal pure returns (bytes memory) {
        assembly {
            mstore(data, sub(mload(data), shl(5, words)))
        }
        return data;
    }

    function _expectEmptyRevert() internal view {
        (bool ok, bytes memory out) = address(engine2).staticcall(abi.encodeCall(engine2.accountMargin, (account)));
        assertFalse(ok, "malformed positionsOf data was accepted");
        assertEq(out.length, 0, "malformed positionsOf data must revert with no data");
    }

    function test_wellFormedBookIsRead() public {
        raw.set(_one(-2e18), false);
        assertGt(engine2.accountMargin(account).requirementIM, 0);
        raw.set(abi.encode(new SeriesId[](0), new int256[](0)), false);
        assertEq(engine2.accountMargin(account).requirementIM, 0);
    }

    function test_elementsPastTheDataRevert() public {
        raw.set(_cut(_one(-2e18), 1), false); // the balance's word is missing
        _expectEmptyRevert();
        raw.set(_cut(_one(-2e18), 2), false); // and the balances' length word
        _expectEmptyRevert();
    }

    function test_aHeadOrLengthOutsideTheDataReverts() public {
        raw.set(new bytes(0x3f), false); // shorter than the two offsets
        _expectEmptyRevert();
        raw.set(abi.encode(uint256(0x40), uint256(0x1000), uint256(0)), false); // offset past the end
        _expectEmptyRevert();
        raw.set(abi.encode(uint256(0x40), uint256(0x60), uint256(2), uint256(0)), false); // 2 ids in 1 word
        _expectEmptyRevert();
        raw.set(abi.encode(uint256(0x40), uint256(0x60), uint256(2 ** 64), uint256(0)), false);
        _expectEmptyRevert();
    }

    function test_aMarketRevertBubblesUp() public {
        bytes memory reason = abi.encodeWithSignature("Error(string)", "book unavailable");
        raw.set(reason, true);
        vm.expectRevert(reason);
        engine2.accountMargin(account);
    }
}
