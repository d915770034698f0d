import { keccak256, toHex } from "viem";

/** The AccessControl role ids, as `contracts/libraries/Roles.sol` defines them. */
export const ROLES = {
  admin: "0x0000000000000000000000000000000000000000000000000000000000000000",
  riskManager: keccak256(toHex("pledge.role.riskManager")),
  guardian: keccak256(toHex("pledge.role.guardian")),
  module: keccak256(toHex("pledge.role.module")),
} as const;
