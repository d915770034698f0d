import { type Address, type PublicClient, getAddress, keccak256, parseAbi, toHex } from "viem";

import type { AddressBook } from "./addressBook.js";

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

/** The links the deploy checks besides roles: who the Backstop acts with. */
const backstopLinksAbi = parseAbi([
  "function liquidator() view returns (address)",
  "function vault() view returns (address)",
  "function market() view returns (address)",
  "function engine() view returns (address)",
  "function insuranceAccount() view returns (uint256)",
]);
const insuranceAccountAbi = parseAbi(["function insuranceAccount() view returns (uint256)"]);
const liquidatorBackstopAbi = parseAbi(["function backstop() view returns (address)"]);
const volSurfaceAbi = parseAbi([
  "function isListed(address underlying) view returns (bool)",
  "function quorum() view returns (uint256)",
  "function signerCount() view returns (uint256)",
]);

/**
 * The module wiring the contracts need to work together (review rv16 F5): the market, the
 * Liquidator and the Backstop hold MODULE_ROLE in the vault, the Liquidator and the Backstop in
 * the market, the Backstop points at the book's Liquidator, vault, market and engine and at the
 * Liquidator's insurance account, the Liquidator pays insolvent bids through the book's
 * Backstop (`backstop()`), and the VolSurfaceOracle (when the book has one) lists every
 * collateral token and has a quorum of at least one signer. A grant that failed or was skipped (a journal resumed from
 * before a step existed) leaves, say, `absorbDebt` reverting for good while the deploy reports
 * success; each problem is a sentence, none is an empty list.
 *
 * @example
 * const problems = await moduleWiringProblems(publicClient, book);
 * if (problems.length > 0) throw new DeployError(problems);
 */
export async function moduleWiringProblems(client: PublicClient, book: AddressBook): Promise<string[]> {
  const { CollateralVault: vault, OptionMarket: market, Liquidator: liquidator, Backstop: backstop } = book.contracts;
  const { MarginEngine: engine } = book.contracts;
  const grants: [contract: string, at: Address, holder: string, account: Address][] = [
    ["CollateralVault", vault, "OptionMarket", market],
    ["CollateralVault", vault, "Liquidator", liquidator],
    ["OptionMarket", market, "Liquidator", liquidator],
    ["CollateralVault", vault, "Backstop", backstop],
    ["OptionMarket", market, "Backstop", backstop],
  ];
  const problems: string[] = [];
  const held = await Promise.all(
    grants.map(([, at, , account]) =>
      client.readContract({
        address: at,
        abi: accessControlAbi,
        functionName: "hasRole",
        args: [ROLES.module, account],
      }),
    ),
  );
  grants.forEach(([contract, , holder, account], i) => {
    if (!held[i]) problems.push(`${contract}: ${holder} ${account} lacks the module role`);
  });
  const links = [
    ["liquidator", liquidator],
    ["vault", vault],
    ["market", market],
    ["engine", engine],
  ] as const;
  const actual = await Promise.all(
    links.map(([functionName]) => client.readContract({ address: backstop, abi: backstopLinksAbi, functionName })),
  );
  links.forEach(([name, expected], i) => {
    if (getAddress(actual[i]!) !== getAddress(expected))
      problems.push(`Backstop: its ${name} is ${actual[i]}, not the book's ${expected}`);
  });
  const [fund, backstopFund] = await Promise.all([
    client.readContract({ address: liquidator, abi: insuranceAccountAbi, functionName: "insuranceAccount" }),
    client.readContract({ address: backstop, abi: backstopLinksAbi, functionName: "insuranceAccount" }),
  ]);
  if (fund !== backstopFund)
    problems.push(`Backstop: its insurance account ${backstopFund} is not the Liquidator's ${fund}`);
  // A contract at the book's Liquidator address that has no `backstop()` is a problem too.
  const payer = await client
    .readContract({ address: liquidator, abi: liquidatorBackstopAbi, functionName: "backstop" })
    .catch(() => undefined);
  if (payer === undefined || getAddress(payer) !== getAddress(backstop))
    problems.push(`Liquidator: it pays insolvent bids through ${payer ?? "no Backstop"}, not the book's ${backstop}`);
  const surface = book.contracts.VolSurfaceOracle;
  if (surface !== undefined) {
    const read = <F extends "isListed" | "quorum" | "signerCount">(functionName: F, args: readonly Address[] = []) =>
      client.readContract({ address: surface, abi: volSurfaceAbi, functionName, args } as never) as Promise<
        F extends "isListed" ? boolean : bigint
      >;
    for (const asset of book.collateral) {
      if (!(await read("isListed", [asset.address])))
        problems.push(`VolSurfaceOracle: ${asset.symbol} ${asset.address} is not listed, so no surface can be posted`);
    }
    const [quorum, signers] = await Promise.all([read("quorum"), read("signerCount")]);
    if (quorum === 0n || signers < quorum)
      problems.push(`VolSurfaceOracle: quorum ${quorum} of ${signers} signers cannot post`);
  }
  return problems;
}
