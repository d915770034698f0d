// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MarginGate
/// @notice The market's margin gate as a pure verdict on one side of an action, from what the
/// action does to it and its state before and after (`docs/margin-gate.md` states the rule).
/// The market reads the states and turns a refusal into its custom error; the SDK runs the
/// same verdict (`packages/sdk/src/math/marginGate.ts`) to predict a fill without a call.
library MarginGate {
    /// @notice What an action does to one side.
    /// @param reducing Every position change moves a balance toward zero without crossing it.
    /// @param givesUpLong A long of the side shrinks: sold, moved out, or netted by a short moved in.
    struct Change {
        bool reducing;
        bool givesUpLong;
    }

    /// @notice A side's margin at a valid price, WAD.
    /// @param initialExcess `equityIM − requirementIM`.
    /// @param maintenanceExcess `equityMM − requirementMM`.
    /// @param maintenanceEquity `equityMM`.
    struct Margin {
        int256 initialExcess;
        int256 maintenanceExcess;
        int256 maintenanceEquity;
    }

    /// @notice A reducing side before the action (a new-risk side is not read before).
    /// @param priced The engine could value the side; `margin` is meaningful only then.
    /// @param margin Its margin when priced.
    /// @param cash Its signed cash in cash units when not priced.
    struct Before {
        bool priced;
        Margin margin;
        int256 cash;
    }

    /// @notice A reducing side after the action, as the gate reads it: its margin when it was
    /// priced before; otherwise its cash and whether it holds a short (no price needed).
    struct After {
        Margin margin;
        int256 cash;
        bool holdsShort;
    }

    /// @notice The gate's answer for one side.
    /// @dev `NeedsInitialMarginCheck` passes only if `IMarginEngine.checkInitialMargin` does at a
    /// valid price (it fails closed). The refusals map one to one onto the market's errors.
    enum Verdict {
        Pass,
        NeedsInitialMarginCheck,
        PausedNewRisk,
        StillLiquidatable,
        MaintenanceEquityFell,
        RiskIncreased
    }

    /// @notice The verdict on one side. `afterState` is read only for a reducing side: its
    /// margin if `beforeState.priced`, else its cash and shorts. In short:
    /// - new risk: refused while paused; else it must end at or above IM (fails closed without a price);
    /// - reducing, priced before: passes if it ends at or above IM; otherwise, if it started below
    ///   maintenance it must end at or above maintenance without lowering its maintenance equity
    ///   beyond rounding (findings 8 and 10), and if it started at or above maintenance neither
    ///   its IM nor its MM excess may fall;
    /// - reducing, unpriced before (oracle down): passes if it ends with no liability (no short,
    ///   no cash debt), or if its cash did not fall and it gave up no long; anything else needs a
    ///   passing IM check at a valid price (finding 1).
    /// @param paused Whether the market is paused (stops new risk only).
    /// @param roundingWad What rounding may cost a liquidatable side closing at the mark, beyond the
    /// engine's one wei: one cash unit in WAD (`CashUnits.unitWadUp`), the premium's rounding.
    function verdict(
        Change memory change,
        Before memory beforeState,
        After memory afterState,
        bool paused,
        uint256 roundingWad
    ) internal pure returns (Verdict) {
        if (!change.reducing) return paused ? Verdict.PausedNewRisk : Verdict.NeedsInitialMarginCheck;
        if (!beforeState.priced) {
            // No liability left behind, or only safer (cash did not fall, no long given up).
            if (afterState.cash >= 0 && !afterState.holdsShort) return Verdict.Pass;
            if (!change.givesUpLong && afterState.cash >= beforeState.cash) return Verdict.Pass;
            return Verdict.NeedsInitialMarginCheck;
        }
        Margin memory prior = beforeState.margin;
        Margin memory post = afterState.margin;
        if (post.initialExcess >= 0) return Verdict.Pass;
        if (prior.maintenanceExcess < 0) {
            if (post.maintenanceExcess < 0) return Verdict.StillLiquidatable;
            // "At the mark" allows for the premium's rounding and the engine's (a wei).
            if (post.maintenanceEquity < prior.maintenanceEquity - int256(roundingWad) - 1) {
                return Verdict.MaintenanceEquityFell;
            }
            return Verdict.Pass;
        }
        if (post.initialExcess < prior.initialExcess || post.maintenanceExcess < prior.maintenanceExcess) {
            return Verdict.RiskIncreased;
        }
        return Verdict.Pass;
    }

    /// @notice Whether adding `delta` to `balance` moves it toward zero without crossing it.
    function isReducing(int256 balance, int256 delta) internal pure returns (bool) {
        return balance > 0 ? (delta < 0 && -delta <= balance) : (balance < 0 && delta > 0 && delta <= -balance);
    }
}
