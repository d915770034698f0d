// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IChainlinkOracle} from "../../contracts/interfaces/IChainlinkOracle.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";
import {AccountLib} from "../../contracts/libraries/AccountLib.sol";
import {PledgeFixture} from "./PledgeFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice The full PledgeFixture stack (real MarginEngine over the Chainlink mock feeds,
/// ETH at 3,000 USD, 80 % vol) plus a market scene: one 3000 call and one 2500 put on
/// WETH expiring a week out at 08:00 UTC, and maker and taker accounts holding ample USDC.
abstract contract MarketFixture is PledgeFixture {
    uint256 internal constant FUNDING = 1_000_000e6;

    uint256 internal expiry;
    SeriesId internal callId;
    SeriesId internal putId;

    address internal maker;
    uint256 internal makerKey;
    address internal taker;
    uint256 internal takerKey;
    address internal feeOwner = makeAddr("feeOwner");
    AccountId internal makerAccount;
    AccountId internal takerAccount;
    AccountId internal feeAccountId;

    function setUp() public virtual override {
        super.setUp();
        expiry = _expiry(7);
        callId = _createSeries(ethIndex, 7, 3000e18, true);
        putId = _createSeries(ethIndex, 7, 2500e18, false);

        (maker, makerKey) = makeAddrAndKey("maker");
        (taker, takerKey) = makeAddrAndKey("taker");
        makerAccount = _account(maker, 0);
        takerAccount = _account(taker, 0);
        feeAccountId = _account(feeOwner, 0);
        _fundAndDeposit(maker, makerAccount, usdc, FUNDING);
        _fundAndDeposit(taker, takerAccount, usdc, FUNDING);
    }

    function _order(
        AccountId account,
        SeriesId seriesId,
        int256 size,
        uint256 priceWad
    ) internal view returns (IOptionMarket.Order memory) {
        return IOptionMarket.Order(account, seriesId, size, priceWad, AccountId.wrap(0), 0, block.timestamp + 1 hours);
    }

    function _sign(uint256 key, IOptionMarket.Order memory order) internal view returns (bytes memory) {
        return _signOrder(key, order);
    }

    /// @dev `taker` fills `fillSize` of an order signed by `maker`'s key.
    function _fill(IOptionMarket.Order memory order, uint256 fillSize) internal returns (uint256 premium) {
        return _fillFor(order, takerAccount, fillSize);
    }

    /// @dev The owner of `takerAccount_` fills `fillSize` of an order signed by `maker`'s key.
    function _fillFor(
        IOptionMarket.Order memory order,
        AccountId takerAccount_,
        uint256 fillSize
    ) internal returns (uint256 premium) {
        bytes memory signature = _sign(makerKey, order);
        vm.prank(AccountLib.ownerOf(takerAccount_));
        premium = market.fill(order, signature, takerAccount_, fillSize);
    }

    /// @dev Like `_fill`, expecting the fill itself to revert with `revertData`.
    function _fillExpectRevert(IOptionMarket.Order memory order, uint256 fillSize, bytes memory revertData) internal {
        bytes memory signature = _sign(makerKey, order);
        vm.prank(taker);
        vm.expectRevert(revertData);
        market.fill(order, signature, takerAccount, fillSize);
    }

    /// @dev What a valuation reverts with once the ETH/USD feed is stale.
    function _staleSpotError() internal view returns (bytes memory) {
        return
            abi.encodeWithSelector(
                IChainlinkOracle.OracleStalePrice.selector,
                address(ethUsd),
                ethUsd.latestTimestamp(),
                uint256(SPOT_MAX_AGE)
            );
    }

    /// @dev One series id, as `transferPositions` takes them.
    function _ids(SeriesId id) internal pure returns (SeriesId[] memory ids) {
        ids = new SeriesId[](1);
        ids[0] = id;
    }

    /// @dev One amount, as `transferPositions` takes them.
    function _amounts(int256 amount) internal pure returns (int256[] memory amounts) {
        amounts = new int256[](1);
        amounts[0] = amount;
    }

    /// @dev `_book`'s slot in `OptionMarket`'s layout (after `MarketLimitsState`, the inherited
    /// role, pause and EIP-712 state and the market's own mappings). A wrong slot reads zeros, so the
    /// count check in `_assertRawBook` fails for any account holding a position.
    uint256 internal constant BOOK_SLOT = 13;

    /// @dev Reads the market's position book word by word (`OptionMarket._book`) and checks its
    /// layout: the count in the first entry's top 8 bits equals `positionsOf`'s length, no other
    /// entry carries count bits, the two words past the count are 0, and `accountNonce` is the
    /// digest of the entries. Every reader shifts or masks the count bits out, so without reading
    /// the words a stray count bit outside the first entry would go unseen until a close moved that
    /// entry into the first place (review helper-159).
    function _assertRawBook(AccountId account) internal view {
        uint256 base = uint256(keccak256(abi.encode(AccountId.unwrap(account), BOOK_SLOT)));
        uint256 count = uint256(vm.load(address(market), bytes32(base))) >> 248;
        (SeriesId[] memory ids, ) = market.positionsOf(account);
        assertEq(count, ids.length, "the first entry's count");
        uint256[] memory words = new uint256[](count);
        uint256 end = count + 2 > 128 ? 128 : count + 2;
        for (uint256 i; i < end; ++i) {
            uint256 word = uint256(vm.load(address(market), bytes32(base + i)));
            if (i >= count) {
                assertEq(word, 0, "a word past the count");
            } else {
                words[i] = word;
                if (i != 0) assertEq(word >> 248, 0, "count bits outside the first entry");
            }
        }
        assertEq(market.accountNonce(account), uint256(keccak256(abi.encodePacked(words))), "the book's digest");
    }
}
