// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Imported only so that Hardhat compiles an artifact for Chainlink's own mock feed,
// usable from TypeScript tests and local deployments.
// solhint-disable-next-line no-unused-import
import {MockV3Aggregator} from "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol";
