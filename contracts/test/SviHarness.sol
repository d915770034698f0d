// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BlackScholes} from "../libraries/BlackScholes.sol";
import {SviMath} from "../libraries/SviMath.sol";

/// @notice Test-only wrapper exposing `SviMath` externally, in batches, for the vectors and the
/// SDK parity test.
contract SviHarness {
    /// @notice One case: a smile, spot, strike and time to expiry.
    struct Input {
        SviMath.Params p;
        uint256 spotWad;
        uint256 strikeWad;
        uint256 secondsToExpiry;
    }

    /// @notice k, w(k), vol and the Black–Scholes prices at that vol.
    struct Output {
        int256 k;
        int256 totalVariance;
        uint256 vol;
        uint256 call;
        uint256 put;
    }

    function logMoneyness(uint256 spotWad, uint256 strikeWad) external pure returns (int256) {
        return SviMath.logMoneyness(spotWad, strikeWad);
    }

    function totalVariance(SviMath.Params memory p, int256 k) external pure returns (int256) {
        return SviMath.totalVariance(p, k);
    }

    function volFromVariance(int256 w, uint256 secondsToExpiry) external pure returns (uint256) {
        return SviMath.volFromVariance(w, secondsToExpiry);
    }

    function vol(SviMath.Params memory p, uint256 s, uint256 k, uint256 t) external pure returns (uint256) {
        return SviMath.vol(p, s, k, t);
    }

    function checkAdmissible(SviMath.Params memory p) external pure {
        SviMath.checkAdmissible(p);
    }

    function checkCalendar(SviMath.Params memory shorter, SviMath.Params memory longer) external pure {
        SviMath.checkCalendar(shorter, longer);
    }

    function checkChange(
        SviMath.Params memory previous,
        SviMath.Params memory next,
        uint256 ratio,
        uint256 previousTau,
        uint256 nextTau
    ) external pure {
        SviMath.checkChange(previous, next, ratio, previousTau, nextTau);
    }

    function allowedChangeRatio(uint256 ratioWad, uint256 confidenceWad) external pure returns (uint256) {
        return SviMath.allowedChangeRatio(ratioWad, confidenceWad);
    }

    function allowedChangeRatioOver(
        uint256 ratioWad,
        uint256 confidenceWad,
        uint256 elapsed
    ) external pure returns (uint256) {
        return SviMath.allowedChangeRatioOver(ratioWad, confidenceWad, elapsed);
    }

    function changeElapsed(uint256 storedTs, uint256 ts, uint256 blockTs) external pure returns (uint256) {
        return SviMath.changeElapsed(storedTs, ts, blockTs);
    }

    function carriedConfidence(
        uint256 previousWad,
        uint256 postedWad,
        uint256 elapsed
    ) external pure returns (uint256) {
        return SviMath.carriedConfidence(previousWad, postedWad, elapsed);
    }

    /// @notice Every output for a batch of cases (one eth_call per ~100 cases).
    function evaluate(Input[] calldata inputs) external pure returns (Output[] memory outputs) {
        outputs = new Output[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata c = inputs[i];
            Output memory o = outputs[i];
            o.k = SviMath.logMoneyness(c.spotWad, c.strikeWad);
            o.totalVariance = SviMath.totalVariance(c.p, o.k);
            o.vol = SviMath.volFromVariance(o.totalVariance, c.secondsToExpiry);
            (o.call, o.put) = BlackScholes.prices(c.spotWad, c.strikeWad, c.secondsToExpiry, o.vol);
        }
    }
}
