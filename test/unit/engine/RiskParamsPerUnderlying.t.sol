// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../../contracts/interfaces/IMarginEngine.sol";
import {MarginMath} from "../../../contracts/libraries/MarginMath.sol";
import {SeriesLib} from "../../../contracts/libraries/SeriesLib.sol";
import {AccountId} from "../../../contracts/types/AccountId.sol";
import {SeriesId} from "../../../contracts/types/SeriesId.sol";
import {PledgeFixture} from "../../helpers/PledgeFixture.sol";

/// @title Each underlying's standard-margin parameters, in a book that mixes underlyings
/// @notice The standard check reads each underlying's `RiskParams` once per check into a cache
/// keyed by underlying index (`StandardManager._readShortRisk`, issue 19; review rv27 P2-2). Every
/// other fixture lists ETH and BTC with the same parameters, so a cache keyed or filled wrongly
/// would pass them. Here ETH and BTC have different (fuzzed) parameters, the book interleaves
/// their calls and puts, and the engine's requirements must equal a recomputation with
/// `MarginMath` at each underlying's own parameters, to the wei.
contract RiskParamsPerUnderlyingTest is PledgeFixture {
    address internal maker;
    uint256 internal makerKey;
    AccountId internal makerAccount;
    AccountId internal takerAccount;
    SeriesId[] internal book;

    function setUp() public override {
        super.setUp();
        (maker, makerKey) = makeAddrAndKey("maker");
        makerAccount = _account(maker, 1);
        takerAccount = _account(bob, 1);
        _fundAndDeposit(maker, makerAccount, usdc, 5_000_000e6);
        _fundAndDeposit(bob, takerAccount, usdc, 5_000_000e6);
        for (uint256 i; i < 8; ++i) {
            // ETH, BTC, ETH, BTC …; calls and puts; strikes either side of spot.
            bool eth = i % 2 == 0;
            uint256 strike = eth ? 2_600e18 + 200e18 * i : 52_000e18 + 4_000e18 * i;
            book.push(_createSeries(eth ? ethIndex : btcIndex, 7 + 7 * (i % 3), strike, i % 4 < 2));
        }
    }

    function _params(uint256 seed, uint256 salt) private pure returns (IMarginEngine.RiskParams memory p) {
        uint256 r = uint256(keccak256(abi.encode(seed, salt)));
        p.aMM = uint64(0.01e18 + (r % 0.3e18));
        p.bMM = uint64(0.01e18 + ((r >> 64) % 0.3e18));
        p.aIM = uint64(p.aMM + ((r >> 128) % (0.5e18 - p.aMM + 1)));
        p.bIM = uint64(p.bMM + ((r >> 192) % (0.5e18 - p.bMM + 1)));
    }

    /// @dev The book's requirements recomputed with each underlying's own parameters.
    function _expected(
        IMarginEngine.RiskParams memory eth,
        IMarginEngine.RiskParams memory btc
    ) private view returns (uint256 im, uint256 mm) {
        for (uint256 i; i < book.length; ++i) {
            SeriesId id = book[i];
            int256 balance = market.positionOf(makerAccount, id);
            bool isEth = SeriesLib.underlyingIndexOf(id) == ethIndex;
            IMarginEngine.RiskParams memory p = isEth ? eth : btc;
            uint256 spot = oracle.spot(isEth ? address(weth) : address(wbtc));
            bool isCall = SeriesLib.isCallOf(id);
            uint256 strike = SeriesLib.strikeOf(id);
            im += MarginMath.positionRequirementUp(
                balance,
                MarginMath.shortRequirementUp(isCall, spot, strike, p.aIM, p.bIM)
            );
            mm += MarginMath.positionRequirementUp(
                balance,
                MarginMath.shortRequirementUp(isCall, spot, strike, p.aMM, p.bMM)
            );
        }
    }

    function _sellBook(uint256 sizeSeed) private {
        for (uint256 i; i < book.length; ++i) {
            int256 size = -int256(1e17 + (uint256(keccak256(abi.encode(sizeSeed, i))) % 3e18));
            _trade(makerKey, makerAccount, takerAccount, book[i], size, 1e18);
        }
    }

    /// @dev Sets fuzzed parameters (`_params` with `ethSalt`, `btcSalt`) on ETH and BTC and sells the book.
    function _setParamsAndSell(
        uint256 seed,
        uint256 ethSalt,
        uint256 btcSalt
    ) private returns (IMarginEngine.RiskParams memory eth, IMarginEngine.RiskParams memory btc) {
        eth = _params(seed, ethSalt);
        btc = _params(seed, btcSalt);
        vm.startPrank(riskManager);
        engine.setRiskParams(ethIndex, eth);
        engine.setRiskParams(btcIndex, btc);
        vm.stopPrank();
        _sellBook(seed);
    }

    function testFuzz_eachUnderlyingsParamsPriceItsOwnShorts(uint256 seed) public {
        (IMarginEngine.RiskParams memory eth, IMarginEngine.RiskParams memory btc) = _setParamsAndSell(seed, 1, 2);
        IMarginEngine.MarginState memory state = engine.accountMargin(makerAccount);
        (uint256 im, uint256 mm) = _expected(eth, btc);
        // The concentration add-on is off in this fixture (no parameters set), so the
        // requirements are the positions' alone.
        assertEq(state.requirementIM, im, "IM");
        assertEq(state.requirementMM, mm, "MM");
    }

    /// @dev The check computes `a·S` once per underlying and a call's `b·S` once per underlying
    /// (`StandardManager._readShortRisk`): at any spot, on either side of every strike, and with the
    /// first expiry past but not settled (its shorts then priced at spot by `_expiredMark`), the
    /// requirements must still be `MarginMath.shortRequirementUp`'s per short, to the wei.
    function testFuzz_requirementsAtAnySpotAndExpiredUnsettled(
        uint256 seed,
        uint256 ethMove,
        uint256 btcMove,
        bool pastFirstExpiry
    ) public {
        (IMarginEngine.RiskParams memory eth, IMarginEngine.RiskParams memory btc) = _setParamsAndSell(seed, 3, 4);
        if (pastFirstExpiry) {
            vm.warp(_expiry(7) + 1 hours);
            _refreshFeeds();
        }
        // From a third to three times today's spot: every strike of the book ends up in and out
        // of the money in some runs.
        _setPrice(ethUsd, int256(1_000e8 + (ethMove % 8_000e8)));
        _setPrice(btcUsd, int256(20_000e8 + (btcMove % 160_000e8)));
        IMarginEngine.MarginState memory state = engine.accountMargin(makerAccount);
        (uint256 im, uint256 mm) = _expected(eth, btc);
        assertEq(state.requirementIM, im, "IM");
        assertEq(state.requirementMM, mm, "MM");
    }
}
