import { keccak256, toHex } from "viem";

/** The AccessControl role ids, as `contracts/libraries/Roles.sol` defines them. */
export const ROLES = {
  admin: "0x0000000000000000000000000000000000000000000000000000000000000000",
  riskManager: keccak256(toHex("pledge.role.riskManager")),
  guardian: keccak256(toHex("pledge.role.guardian")),
  module: keccak256(toHex("pledge.role.module")),
} as const;

/** AccessControl's `hasRole`, the one read the deploy checks make of every role holder. */
export const accessControlAbi = [
  {
    type: "function",
    name: "hasRole",
    stateMutability: "view",
    inputs: [{ type: "bytes32" }, { type: "address" }],
    outputs: [{ type: "bool" }],
  },
] as const;
