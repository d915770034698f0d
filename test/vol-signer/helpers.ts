import type { Address } from "viem";

import { type SviParams, sviVol } from "../../packages/sdk/src/index.js";
import type { Quote } from "../../packages/vol-signer/src/index.js";
import { seededRandom } from "../../scripts/lib/population.js";

export const WAD = 10n ** 18n;
export const WETH: Address = "0x00000000000000000000000000000000000000e7";
export const DAY = 86_400n;
/** A fixed "now" for the pure tests: 2023-11-14T22:13:20Z. */
export const NOW = 1_700_000_000n;
export const expiryIn = (now: bigint, days: number) => (now / DAY + BigInt(days)) * DAY + 8n * 3600n;
export const wad = (x: number) => BigInt(Math.round(x * 1e18));
export const num = (x: bigint) => Number(x) / 1e18;

/** Seeded uniform numbers in [0, 1): noise that is the same on every run (the population's mulberry32). */
export const seeded = seededRandom;

/**
 * IV quotes of the smile `truth` (WAD) at strikes spot·e^k, the vols computed by the SDK exactly
 * as the oracle's `volAt` would; `noise(i)` is added to each mid, `spread` is the bid–ask width.
 */
export function sviQuotes(params: {
  truth: SviParams;
  now: bigint;
  expiry: bigint;
  spot?: number;
  ks?: readonly number[];
  spread?: number;
  noise?: (i: number) => number;
}): Quote[] {
  const spot = params.spot ?? 2000;
  const ks = params.ks ?? [-0.6, -0.45, -0.3, -0.2, -0.1, -0.05, 0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6];
  const half = (params.spread ?? 0) / 2;
  return ks.map((k, i) => {
    const strikeWad = wad(spot * Math.exp(k));
    const vol = num(sviVol(params.truth, wad(spot), strikeWad, params.expiry - params.now)) + (params.noise?.(i) ?? 0);
    return {
      source: `synthetic:${i}`,
      underlying: WETH,
      expiry: params.expiry,
      strikeWad,
      spotWad: wad(spot),
      kind: "iv" as const,
      bidWad: wad(vol - half),
      askWad: wad(vol + half),
    };
  });
}

/**
 * An address book (the SDK's schema, as the deploy writes it) for `chainId` whose
 * `contracts.VolSurfaceOracle` is `oracle` (left out when undefined); the other contracts are
 * placeholders, which the signer never reads.
 */
export function addressBookJson(chainId: number, oracle?: Address): string {
  const placeholder = (i: number): Address => `0x${i.toString(16).padStart(40, "0")}`;
  const names = [
    "CollateralVault",
    "ChainlinkOracle",
    "MarginEngine",
    "OptionMarket",
    "Liquidator",
    "Backstop",
    "InsuranceFund",
  ];
  const contracts: Record<string, Address> = Object.fromEntries(names.map((name, i) => [name, placeholder(0xa0 + i)]));
  if (oracle !== undefined) contracts.VolSurfaceOracle = oracle;
  return JSON.stringify({
    chainId,
    deployedAtBlock: "0",
    contracts,
    cash: { address: placeholder(0xc0), symbol: "USDC", decimals: 6 },
    collateral: [{ address: WETH, symbol: "WETH", decimals: 18 }],
  });
}
