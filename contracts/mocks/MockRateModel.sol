// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRateModel} from "../interfaces/IRateModel.sol";

/// @title MockRateModel
/// @notice A rate model for failure modes: a fixed rate, or a revert, an empty answer, a short
/// or long answer (a return-data bomb), an answer above any cap, or a loop that burns all its gas.
/// @dev Test only. Not for deployment.
contract MockRateModel is IRateModel {
    enum Mode {
        Fixed,
        Revert,
        Empty,
        Short,
        Bomb,
        Huge,
        BurnGas
    }

    error MockRateModelReverted();

    uint256 public rate;
    Mode public mode;

    constructor(uint256 rate_) {
        rate = rate_;
    }

    function setRate(uint256 rate_) external {
        rate = rate_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @inheritdoc IRateModel
    function borrowRate(uint256, uint256) external view returns (uint256) {
        Mode m = mode;
        if (m == Mode.Fixed) return rate;
        if (m == Mode.Revert) revert MockRateModelReverted();
        if (m == Mode.Huge) return type(uint256).max;
        if (m == Mode.BurnGas) {
            uint256 x;
            while (gasleft() > 0) x = uint256(keccak256(abi.encode(x)));
            return x;
        }
        assembly ("memory-safe") {
            switch m
            // Empty: a bare `return` with no data.
            case 2 {
                return(0, 0)
            }
            // Short: 16 bytes.
            case 3 {
                mstore(0, 1)
                return(0, 16)
            }
            // Bomb: a megabyte of answer.
            default {
                return(0, 1000000)
            }
        }
    }
}
