import { type Address, type Hash, type Hex, type ReadContractErrorType, hashTypedData, recoverAddress } from "viem";
import { getBlock, getCode, readContract } from "viem/actions";

import { collateralVaultAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, assertChain } from "../../internal/actions.js";
import { type Order, type SignedOrder, orderDomain, orderTypes } from "../../orders/typedData.js";
import { getOrderStatus } from "./getOrderStatus.js";

const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_INT256 = (1n << 255n) - 1n;
/** `IERC1271.isValidSignature`'s magic value. */
const ERC1271_MAGIC = "0x1626ba7e";
const erc1271Abi = [
  {
    type: "function",
    name: "isValidSignature",
    stateMutability: "view",
    inputs: [
      { name: "hash", type: "bytes32" },
      { name: "signature", type: "bytes" },
    ],
    outputs: [{ name: "", type: "bytes4" }],
  },
] as const;

/**
 * Whether every field of an order fits its EIP-712 type (uint256, `size` int256) and the ids are
 * well-formed: an order outside these ranges cannot be hashed, signed or filled.
 *
 * @example
 * if (!orderInRange(signed.order)) throw new Error("not an order");
 */
export function orderInRange(order: Order): boolean {
  const unsigned = [order.account, order.seriesId, order.priceWad, order.taker, order.nonce, order.deadline];
  return (
    unsigned.every((v) => typeof v === "bigint" && v >= 0n && v <= MAX_UINT256) &&
    typeof order.size === "bigint" &&
    order.size >= -MAX_INT256 - 1n &&
    order.size <= MAX_INT256
  );
}

/**
 * The EIP-712 digest `OptionMarket.orderHash` gives for `order` on the address book's chain and
 * market (the key of its `filled`).
 *
 * @example
 * const hash = orderDigest(order, addressBook); // equals the market's orderHash(order)
 */
export function orderDigest(order: Order, addressBook: AddressBook): Hash {
  return hashTypedData({
    domain: orderDomain(addressBook.chainId, addressBook.contracts.OptionMarket),
    types: orderTypes,
    primaryType: "Order",
    message: order,
  });
}

export interface VerifyOrderSignatureParameters {
  signedOrder: SignedOrder;
  addressBook: AddressBook;
  /** Read at this block (default: latest). */
  blockNumber?: bigint | undefined;
}

/**
 * `OptionMarket._checkSignature`: whether the order's signature is its account owner's, or an
 * operator's the owner approved in the vault (`isOperator`), or — for a contract owner — approved
 * by its ERC-1271 `isValidSignature`. The digest binds the address book's chain id and market, so
 * an order signed for another chain or deployment fails.
 *
 * @example
 * if (!(await verifyOrderSignature(publicClient, { signedOrder, addressBook }))) console.log("forged");
 */
export async function verifyOrderSignature(
  client: ReadClient,
  params: VerifyOrderSignatureParameters,
): Promise<boolean> {
  const { signedOrder, addressBook, blockNumber } = params;
  if (!orderInRange(signedOrder.order) || !/^0x[0-9a-fA-F]*$/.test(signedOrder.signature)) return false;
  const hash = orderDigest(signedOrder.order, addressBook);
  const owner = `0x${(signedOrder.order.account >> 96n).toString(16).padStart(40, "0")}` as Address;
  const at = blockNumber === undefined ? {} : { blockNumber };
  const signer = await recoverSigner(hash, signedOrder.signature);
  if (signer !== undefined) {
    if (signer.toLowerCase() === owner.toLowerCase()) return true;
    const operator = await readContract(client, {
      address: addressBook.contracts.CollateralVault,
      abi: collateralVaultAbi,
      functionName: "isOperator",
      args: [owner, signer],
      ...at,
    });
    if (operator) return true;
  }
  const code = await getCode(client, { address: owner, ...at });
  if (code === undefined || code === "0x") return false;
  try {
    const magic = await readContract(client, {
      address: owner,
      abi: erc1271Abi,
      functionName: "isValidSignature",
      args: [hash, signedOrder.signature],
      ...at,
    });
    return magic.toLowerCase() === ERC1271_MAGIC;
  } catch {
    return false;
  }
}

/** The ECDSA signer of a 65-byte signature (as OpenZeppelin's `tryRecover`: low s, v 27/28), or none. */
async function recoverSigner(hash: Hash, signature: Hex): Promise<Address | undefined> {
  if (signature.length !== 132) return undefined;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  // secp256k1n / 2: OpenZeppelin refuses a high s (malleable) signature.
  if (s > 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n || (v !== 27 && v !== 28))
    return undefined;
  try {
    return await recoverAddress({ hash, signature });
  } catch {
    return undefined;
  }
}

export interface VerifyOrderParameters extends VerifyOrderSignatureParameters {}

/** Why an order cannot be filled, as `verifyOrder` finds it. */
export type OrderProblem = "outOfRange" | "invalidSignature" | "cancelled" | "expired" | "nonceTooLow" | "filled";

export type VerifyOrderReturnType =
  { valid: true; hash: Hash; remaining: bigint } | { valid: false; hash: Hash | undefined; problem: OrderProblem };

export type VerifyOrderErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Whether a signed order from an order book can be filled at all, before anyone previews it: its
 * fields fit their types, it is signed for this chain and market by its owner or an operator
 * (`verifyOrderSignature`), and it is neither cancelled, expired, below the account's minimum
 * nonce nor fully filled (`getOrderStatus`); `remaining` is what is left. Margin is not judged
 * (`simulateFill` does that for a given taker and size).
 *
 * @example
 * const check = await verifyOrder(publicClient, { signedOrder, addressBook });
 * if (check.valid) console.log(`${check.remaining} contracts fillable`);
 * else console.log(`hidden: ${check.problem}`);
 */
export async function verifyOrder(client: ReadClient, params: VerifyOrderParameters): Promise<VerifyOrderReturnType> {
  const { signedOrder, addressBook } = params;
  if (!orderInRange(signedOrder.order)) return { valid: false, hash: undefined, problem: "outOfRange" };
  await assertChain(client, addressBook);
  const blockNumber = params.blockNumber ?? (await getBlock(client)).number;
  const hash = orderDigest(signedOrder.order, addressBook);
  if (!(await verifyOrderSignature(client, { signedOrder, addressBook, blockNumber })))
    return { valid: false, hash, problem: "invalidSignature" };
  const status = await getOrderStatus(client, { order: signedOrder.order, addressBook, blockNumber });
  if (status.state !== "open") return { valid: false, hash, problem: status.state };
  return { valid: true, hash, remaining: status.remaining };
}
