// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BlackScholes} from "../libraries/BlackScholes.sol";

/// @notice Test-only wrapper exposing `BlackScholes` externally, in batches, and with gas probes.
contract BlackScholesHarness {
    /// @notice One reference case's inputs.
    struct Input {
        uint256 spotWad;
        uint256 strikeWad;
        uint256 secondsToExpiry;
        uint256 volWad;
    }

    /// @notice Every output of the library for one case.
    struct Output {
        uint256 call;
        uint256 put;
        uint256 callDelta;
        int256 putDelta;
        uint256 vega;
    }

    function callPrice(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholes.callPrice(s, k, t, v);
    }

    function putPrice(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholes.putPrice(s, k, t, v);
    }

    function prices(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256, uint256) {
        return BlackScholes.prices(s, k, t, v);
    }

    function callDelta(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholes.callDelta(s, k, t, v);
    }

    function putDelta(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (int256) {
        return BlackScholes.putDelta(s, k, t, v);
    }

    function vega(uint256 s, uint256 k, uint256 t, uint256 v) external pure returns (uint256) {
        return BlackScholes.vega(s, k, t, v);
    }

    /// @notice One scenario-pricing case: the spot ln(S/K) is taken at, the strike, the spot
    /// priced at (a shocked spot) with the ln(1 + shock) shift that goes with it, vol and time.
    struct ScenarioInput {
        uint256 spotWad;
        uint256 strikeWad;
        uint256 shockedSpotWad;
        int256 lnShiftWad;
        uint256 volWad;
        uint256 secondsToExpiry;
    }

    /// @notice The scenario-pricing parts and the call price from them.
    struct ScenarioOutput {
        int256 lnMoneyness;
        uint256 volTerm;
        uint256 callPriceAt;
    }

    function lnMoneyness(uint256 s, uint256 k) external pure returns (int256) {
        return BlackScholes.lnMoneyness(s, k);
    }

    function volTerm(uint256 v, uint256 t) external pure returns (uint256) {
        return BlackScholes.volTerm(v, t);
    }

    function callPriceAt(uint256 s, uint256 k, int256 m, uint256 s27) external pure returns (uint256) {
        return BlackScholes.callPriceAt(s, k, m, s27);
    }

    function callPriceLn(uint256 s, uint256 k, uint256 t, uint256 v, int256 m) external pure returns (uint256) {
        return BlackScholes.callPriceLn(s, k, t, v, m);
    }

    /// @notice `lnMoneyness`, `volTerm` and `callPriceAt(shockedSpot, strike, ln(S/K) + shift,
    /// volTerm)` for a batch of cases, as `PortfolioMath` chains them.
    function evaluateScenarios(
        ScenarioInput[] calldata inputs
    ) external pure returns (ScenarioOutput[] memory outputs) {
        outputs = new ScenarioOutput[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            ScenarioInput calldata c = inputs[i];
            ScenarioOutput memory o = outputs[i];
            o.lnMoneyness = BlackScholes.lnMoneyness(c.spotWad, c.strikeWad);
            o.volTerm = BlackScholes.volTerm(c.volWad, c.secondsToExpiry);
            o.callPriceAt = BlackScholes.callPriceAt(
                c.shockedSpotWad,
                c.strikeWad,
                o.lnMoneyness + c.lnShiftWad,
                o.volTerm
            );
        }
    }

    /// @notice All outputs for a batch of cases (one eth_call per ~100 cases).
    function evaluate(Input[] calldata inputs) external pure returns (Output[] memory outputs) {
        outputs = new Output[](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata c = inputs[i];
            Output memory o = outputs[i];
            (o.call, o.put) = BlackScholes.prices(c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad);
            o.callDelta = BlackScholes.callDelta(c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad);
            o.putDelta = BlackScholes.putDelta(c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad);
            o.vega = BlackScholes.vega(c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad);
        }
    }

    /// @notice Gas of one internal `callPrice`, measured with `gasleft()` around the call.
    function gasCallPrice(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v
    ) external view returns (uint256 gasUsed, uint256 r) {
        gasUsed = gasleft();
        r = BlackScholes.callPrice(s, k, t, v);
        gasUsed -= gasleft();
    }

    /// @notice Gas of one internal `putPrice`.
    function gasPutPrice(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v
    ) external view returns (uint256 gasUsed, uint256 r) {
        gasUsed = gasleft();
        r = BlackScholes.putPrice(s, k, t, v);
        gasUsed -= gasleft();
    }

    /// @notice Gas of one internal `callDelta`.
    function gasCallDelta(
        uint256 s,
        uint256 k,
        uint256 t,
        uint256 v
    ) external view returns (uint256 gasUsed, uint256 r) {
        gasUsed = gasleft();
        r = BlackScholes.callDelta(s, k, t, v);
        gasUsed -= gasleft();
    }

    /// @notice Gas of one internal `vega`.
    function gasVega(uint256 s, uint256 k, uint256 t, uint256 v) external view returns (uint256 gasUsed, uint256 r) {
        gasUsed = gasleft();
        r = BlackScholes.vega(s, k, t, v);
        gasUsed -= gasleft();
    }

    /// @notice Gas of `callPrice`, `putPrice`, `callDelta` and `vega` for a batch of cases.
    function gasBatch(Input[] calldata inputs) external view returns (uint256[4][] memory gasUsed) {
        gasUsed = new uint256[4][](inputs.length);
        for (uint256 i; i < inputs.length; ++i) {
            Input calldata c = inputs[i];
            (uint256 s, uint256 k, uint256 t, uint256 v) = (c.spotWad, c.strikeWad, c.secondsToExpiry, c.volWad);
            uint256 g = gasleft();
            uint256 sink = BlackScholes.callPrice(s, k, t, v);
            gasUsed[i][0] = g - gasleft();
            g = gasleft();
            sink ^= BlackScholes.putPrice(s, k, t, v);
            gasUsed[i][1] = g - gasleft();
            g = gasleft();
            sink ^= BlackScholes.callDelta(s, k, t, v);
            gasUsed[i][2] = g - gasleft();
            g = gasleft();
            sink ^= BlackScholes.vega(s, k, t, v);
            gasUsed[i][3] = g - gasleft();
            // Keep the results alive so the optimizer cannot drop the calls.
            if (sink == type(uint256).max) gasUsed[i][0] = 0;
        }
    }
}
