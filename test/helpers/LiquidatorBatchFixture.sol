// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILiquidator} from "../../contracts/interfaces/ILiquidator.sol";
import {PledgeFixture} from "./PledgeFixture.sol";
import {AccountId} from "../../contracts/types/AccountId.sol";
import {SeriesId} from "../../contracts/types/SeriesId.sol";

/// @notice The scene of the `bidMany` tests: three of Carol's accounts, each short 10 calls on
/// its own cash, Bob long against them, and Dave, a funded bidder; the insurance fund holds cash.
abstract contract LiquidatorBatchFixture is PledgeFixture {
    address internal carol;
    uint256 internal carolKey;
    address internal dave = makeAddr("dave");
    AccountId internal bobAccount;
    AccountId internal daveAccount;
    /// @dev Three accounts of Carol's, each short 10 calls on its own cash.
    AccountId[3] internal shorts;
    SeriesId internal call30;
    uint256 internal constant NO_NONCE = type(uint256).max;

    function setUp() public virtual override {
        super.setUp();
        (carol, carolKey) = makeAddrAndKey("carol");
        bobAccount = _account(bob, 1);
        daveAccount = _account(dave, 1);
        call30 = _createSeries(ethIndex, 30, 3_200e18, true);
        _fundAndDeposit(bob, bobAccount, usdc, 10_000_000e6);
        _fundAndDeposit(dave, daveAccount, usdc, 10_000_000e6);
        _fundAndDeposit(alice, insurance.account(), usdc, 1_000_000e6);
        // Slightly different cash, so they cross maintenance at different prices.
        for (uint96 i; i < 3; ++i) {
            shorts[i] = _account(carol, i + 1);
            _fundAndDeposit(carol, shorts[i], usdc, 8_000e6 + i * 100e6);
            _trade(carolKey, shorts[i], bobAccount, call30, -10e18, 100e18);
        }
    }

    /// @dev One request per short account, `fraction` each, no cap, no nonce check.
    function _requests(uint256 fraction) internal view returns (ILiquidator.BidRequest[] memory requests) {
        requests = new ILiquidator.BidRequest[](3);
        for (uint256 i; i < 3; ++i) {
            requests[i] = ILiquidator.BidRequest(shorts[i], fraction, type(int256).max, NO_NONCE);
        }
    }

    /// @dev Everything a bid moves: cash, WBTC collateral, positions, nonces and auctions of every
    /// account involved, the fund's cash and the bad debt.
    function _state() internal view returns (bytes memory state) {
        state = abi.encode(vault.cashOf(daveAccount), vault.cashOf(insurance.account()), liquidator.badDebt());
        for (uint256 i; i < 3; ++i) {
            state = abi.encode(
                state,
                vault.cashOf(shorts[i]),
                vault.collateralOf(shorts[i], address(wbtc)),
                market.positionOf(shorts[i], call30),
                market.accountNonce(shorts[i]),
                liquidator.auctionOf(shorts[i])
            );
        }
        state = abi.encode(
            state,
            market.positionOf(daveAccount, call30),
            vault.collateralOf(daveAccount, address(wbtc))
        );
    }
}
