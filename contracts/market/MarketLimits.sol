// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

import {IOptionMarket} from "../interfaces/IOptionMarket.sol";
import {IMarginEngine} from "../interfaces/IMarginEngine.sol";
import {Roles} from "../libraries/Roles.sol";
import {SeriesLib} from "../libraries/SeriesLib.sol";
import {SeriesId} from "../types/SeriesId.sol";

/// @title MarketLimitsState
/// @notice The market's open-interest book, shared by `OptionMarket` (fills, transfers, slices and
/// settlement keep it in step) and `MarketLimits` (caps and retirement, run by DELEGATECALL on the
/// market's storage). Both list this contract first among their bases and it has none, so its
/// variables sit at slots 0–3 in both layouts (`unit/market/OpenInterestCaps.t.sol` checks the
/// slots). Add nothing here without adding it at the end.
abstract contract MarketLimitsState {
    /// @dev An underlying's open-interest caps, WAD contracts, 0 = no cap; one slot, read once per
    /// fill that raises open interest.
    struct OpenInterestCaps {
        uint128 seriesCap;
        uint128 underlyingCap;
    }

    /// @dev Σ of `openInterest` over every unretired series of an underlying (slot 0).
    mapping(uint16 underlyingIndex => uint256) internal _underlyingOpenInterest;
    /// @dev Slot 1.
    mapping(uint16 underlyingIndex => OpenInterestCaps) internal _openInterestCaps;
    /// @dev Slot 2.
    mapping(SeriesId seriesId => bool) internal _seriesRetired;
    /// @dev Slot 3: the maker and taker fees, WAD shares of the premium, in one slot that every
    /// fill reads (each at most `MAX_TAKER_FEE_WAD` = 1e16, far under 2^64).
    uint64 internal _makerFeeWad;
    uint64 internal _takerFeeWad;
}

/// @title MarketLimits
/// @notice The open-interest caps' setter, `retireExpired` and `setFees`, moved out of `OptionMarket` for
/// room (EIP-170). `OptionMarket` creates this contract in its constructor and forwards those
/// calls to it by DELEGATECALL, so the code runs as the market: on the market's storage
/// (`MarketLimitsState`), with the caller's `msg.sender`, emitting the market's events and
/// reverting with its errors. It holds no state and refuses to run except as the market.
contract MarketLimits is MarketLimitsState {
    /// @notice Smallest open-interest cap other than 0 (no cap): one contract.
    uint256 internal constant MIN_OPEN_INTEREST_CAP = 1e18;
    /// @notice Highest maker fee, as `OptionMarket.MAX_MAKER_FEE_WAD` (0.5 %).
    uint256 internal constant MAX_MAKER_FEE_WAD = 0.005e18;
    /// @notice Highest taker fee, as `OptionMarket.MAX_TAKER_FEE_WAD` (1 %).
    uint256 internal constant MAX_TAKER_FEE_WAD = 0.01e18;
    /// @notice Largest fill amount, as `OptionMarket.MAX_AMOUNT`.
    uint256 internal constant MAX_AMOUNT = uint256(uint128(type(int128).max));

    /// @dev The market that created this contract: the only context this code runs in.
    address private immutable _market;
    IMarginEngine private immutable _engine;

    /// @dev Raised when called other than by the market's DELEGATECALL.
    error MarketLimitsNotDelegated();

    constructor(IMarginEngine engine_) {
        _market = msg.sender;
        _engine = engine_;
    }

    /// @notice See `IOptionMarket.retireExpired`.
    /// @dev No fill, transfer or slice can raise an expired series' open interest, so its room
    /// under the underlying cap is released here at once; settlement then only lowers the
    /// series' own count (`OptionMarket._applyDelta` skips the underlying for retired series).
    /// Ids already retired, or with no open interest (nothing held against the cap), are skipped
    /// rather than refused (review rv16c2 K1): a batch cannot be voided by retiring one of its
    /// ids first, the way `bidMany` skips lots another bidder took.
    function retireExpired(SeriesId[] calldata seriesIds) external returns (uint256 retired) {
        _checkDelegated();
        IOptionMarket market = IOptionMarket(address(this));
        for (uint256 i; i < seriesIds.length; ++i) {
            SeriesId seriesId = seriesIds[i];
            if (!market.seriesExists(seriesId)) revert IOptionMarket.MarketSeriesNotFound(seriesId);
            uint256 expiry = SeriesLib.expiryOf(seriesId);
            if (block.timestamp < expiry) revert IOptionMarket.MarketSeriesNotExpired(seriesId, expiry);
            if (_seriesRetired[seriesId]) continue;
            uint256 remaining = market.openInterest(seriesId);
            if (remaining == 0) continue;
            _seriesRetired[seriesId] = true;
            uint16 u = SeriesLib.underlyingIndexOf(seriesId);
            // The underlying's sum includes every unretired series' open interest (both move by
            // the same delta in `_applyDelta` until retirement), so this cannot underflow.
            unchecked {
                _underlyingOpenInterest[u] = _underlyingOpenInterest[u] - remaining;
                ++retired;
            }
            emit IOptionMarket.SeriesRetired(seriesId, remaining);
        }
    }

    /// @notice See `IOptionMarket.setOpenInterestCaps`.
    function setOpenInterestCaps(uint16 underlyingIndex, uint256 seriesCap, uint256 underlyingCap) external {
        _checkDelegated();
        _checkRole(Roles.RISK_MANAGER_ROLE);
        // Index 0 and never-listed indexes are refused, as by `createSeries`.
        if (_engine.underlying(underlyingIndex).asset == address(0)) {
            revert IOptionMarket.MarketUnderlyingNotListed(underlyingIndex);
        }
        if (
            !_validCap(seriesCap) ||
            !_validCap(underlyingCap) ||
            (seriesCap != 0 && underlyingCap != 0 && seriesCap > underlyingCap)
        ) revert IOptionMarket.MarketInvalidOpenInterestCaps(underlyingIndex, seriesCap, underlyingCap);
        // Both fit in 128 bits: MAX_AMOUNT < 2^127.
        _openInterestCaps[underlyingIndex] = OpenInterestCaps(uint128(seriesCap), uint128(underlyingCap));
        emit IOptionMarket.OpenInterestCapsSet(underlyingIndex, seriesCap, underlyingCap);
    }

    /// @notice See `IOptionMarket.setFees`.
    function setFees(uint256 newMakerFeeWad, uint256 newTakerFeeWad) external {
        _checkDelegated();
        _checkRole(Roles.RISK_MANAGER_ROLE);
        if (newMakerFeeWad > MAX_MAKER_FEE_WAD || newTakerFeeWad > MAX_TAKER_FEE_WAD) {
            revert IOptionMarket.MarketInvalidFees(newMakerFeeWad, newTakerFeeWad);
        }
        // Both fit in 64 bits: checked against the caps just above.
        (_makerFeeWad, _takerFeeWad) = (uint64(newMakerFeeWad), uint64(newTakerFeeWad));
        emit IOptionMarket.FeesSet(newMakerFeeWad, newTakerFeeWad);
    }

    /// @dev The market's own role check (`onlyRole`), asked of the market: this code runs as it.
    function _checkRole(bytes32 role) private view {
        if (!IAccessControl(address(this)).hasRole(role, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, role);
        }
    }

    /// @dev Only as the market: called directly, `address(this)` is this contract.
    function _checkDelegated() private view {
        if (address(this) != _market) revert MarketLimitsNotDelegated();
    }

    /// @dev An open-interest cap is 0 (none) or between one contract and the largest fill.
    function _validCap(uint256 cap) private pure returns (bool) {
        return cap == 0 || (cap >= MIN_OPEN_INTEREST_CAP && cap <= MAX_AMOUNT);
    }
}
