// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IMarginEngine} from "../../contracts/interfaces/IMarginEngine.sol";
import {IPledgeOracle} from "../../contracts/interfaces/IPledgeOracle.sol";
import {ICollateralVault} from "../../contracts/interfaces/ICollateralVault.sol";
import {IOptionMarket} from "../../contracts/interfaces/IOptionMarket.sol";

/// @notice TEST ONLY. A stand-in margin engine with a flat, controllable rule, so the
/// OptionMarket can be tested before the real MarginEngine lands:
///
///   equityIM      = cash (scaled to WAD) + offset[account] + Σ balance × mark[series]
///   requirementIM = Σ over shorts |balance| × shortRequirementWad
///   excessInitial = equityIM − requirementIM
///
/// Marks, the per-short requirement and per-account offsets are set by the test; with all
/// at zero an account's excess is just its cash. `setOracleDown(true)` makes every
/// valuation revert, like a stale Chainlink feed. Collateral other than cash is ignored.
/// Governance functions are unguarded: this contract never leaves the test suite.
contract FlatMarginEngine is IMarginEngine {
    error FlatEngineOracleDown();

    ICollateralVault public immutable vault;
    uint256 public immutable cashToWad;
    IOptionMarket public market;
    bool public oracleDown;
    uint256 public shortRequirementWad;
    mapping(uint256 account => int256) public offset;
    mapping(uint256 seriesId => uint256) public markOf;

    uint16 private _count;
    mapping(uint16 index => Underlying) private _underlyings;
    mapping(address asset => uint16) private _indexOf;

    constructor(ICollateralVault vault_) {
        vault = vault_;
        cashToWad = 10 ** (18 - vault_.assetConfig(vault_.cashAsset()).decimals);
    }

    // ------------------------------------------------------------ test controls

    function setOracleDown(bool down) external {
        oracleDown = down;
    }

    function setOffset(uint256 account, int256 offsetWad) external {
        offset[account] = offsetWad;
    }

    function setMark(uint256 seriesId, uint256 markWad) external {
        markOf[seriesId] = markWad;
    }

    function setShortRequirement(uint256 perContractWad) external {
        shortRequirementWad = perContractWad;
    }

    // ------------------------------------------------------------ governance

    function listUnderlying(address asset, RiskParams calldata params) external returns (uint16 index) {
        if (asset == address(0)) revert EngineZeroAddress();
        if (_indexOf[asset] != 0) revert EngineUnderlyingAlreadyListed(asset);
        index = ++_count;
        _underlyings[index] = Underlying(asset, params);
        _indexOf[asset] = index;
        emit UnderlyingListed(index, asset, params);
    }

    function setRiskParams(uint16 index, RiskParams calldata params) external {
        _underlyings[index].params = params;
        emit RiskParamsSet(index, params);
    }

    function setMarket(address market_) external {
        if (address(market) != address(0)) revert EngineMarketAlreadySet();
        market = IOptionMarket(market_);
        emit MarketSet(market_);
    }

    // ------------------------------------------------------------ views

    function accountMargin(uint256 account) public view returns (MarginState memory state) {
        if (oracleDown) revert FlatEngineOracleDown();
        int256 equity = vault.cashOf(account) * int256(cashToWad) + offset[account];
        uint256 requirement;
        (uint256[] memory ids, int256[] memory balances) = market.positionsOf(account);
        for (uint256 i; i < ids.length; ++i) {
            equity += (balances[i] * int256(markOf[ids[i]])) / 1e18;
            if (balances[i] < 0) requirement += (uint256(-balances[i]) * shortRequirementWad) / 1e18;
        }
        state.equityIM = equity;
        state.equityMM = equity;
        state.requirementIM = requirement;
        state.requirementMM = requirement;
        if (equity < 0) state.health = Health.INSOLVENT;
        else if (equity < int256(requirement)) state.health = Health.LIQUIDATABLE;
    }

    function accountsMargin(uint256[] calldata accounts) external view returns (MarginState[] memory states) {
        states = new MarginState[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) states[i] = accountMargin(accounts[i]);
    }

    function excessInitial(uint256 account) public view returns (int256) {
        MarginState memory state = accountMargin(account);
        return state.equityIM - int256(state.requirementIM);
    }

    function checkInitialMargin(uint256 account) public view {
        MarginState memory state = accountMargin(account);
        if (state.equityIM < int256(state.requirementIM)) {
            revert EngineBelowInitialMargin(account, state.equityIM, state.requirementIM);
        }
    }

    function checkWithdrawal(uint256 account) external view {
        checkInitialMargin(account);
    }

    function mark(uint256 seriesId) external view returns (uint256) {
        if (oracleDown) revert FlatEngineOracleDown();
        return markOf[seriesId];
    }

    function underlying(uint16 index) external view returns (Underlying memory) {
        return _underlyings[index];
    }

    function underlyingIndexOf(address asset) external view returns (uint16 index) {
        index = _indexOf[asset];
        if (index == 0) revert EngineUnderlyingNotListed(asset);
    }

    function underlyingCount() external view returns (uint16) {
        return _count;
    }

    function oracle() external pure returns (IPledgeOracle) {
        return IPledgeOracle(address(0));
    }
}
