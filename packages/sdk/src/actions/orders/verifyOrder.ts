import {
  type Address,
  type Hash,
  type Hex,
  type ReadContractErrorType,
  encodeFunctionData,
  hashTypedData,
  recoverAddress,
} from "viem";
import { call, getBlock, getCode, readContract } from "viem/actions";

import { collateralVaultAbi, optionMarketAbi } from "../../abis/index.js";
import type { AddressBook } from "../../addressBook.js";
import type { PledgeErrorType } from "../../errors.js";
import { type ReadClient, assertChain } from "../../internal/actions.js";
import { type Order, type SignedOrder, orderDomain, orderTypes } from "../../orders/typedData.js";
import { decodeSeries } from "../../math/series.js";
import { getOrderStatus } from "./getOrderStatus.js";

const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_INT256 = (1n << 255n) - 1n;
/**
 * The return word OpenZeppelin's `SignatureChecker` requires of `IERC1271.isValidSignature`: the
 * magic value `0x1626ba7e` and 28 zero bytes, compared as one 32-byte word (rv18b RV18b-1).
 */
const ERC1271_MAGIC_WORD = `0x1626ba7e${"0".repeat(56)}`;
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
    // As `SignatureChecker.isValidERC1271SignatureNowCalldata`: a staticcall from the market, at
    // least 32 bytes back, and the first word equal to the magic value with a zero tail (viem's
    // `bytes4` decoding would ignore the tail).
    const { data } = await call(client, {
      account: addressBook.contracts.OptionMarket,
      to: owner,
      data: encodeFunctionData({
        abi: erc1271Abi,
        functionName: "isValidSignature",
        args: [hash, signedOrder.signature],
      }),
      ...at,
    });
    return data !== undefined && data.length >= 66 && data.slice(0, 66).toLowerCase() === ERC1271_MAGIC_WORD;
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
export type OrderProblem =
  | "outOfRange"
  | "invalidSignature"
  | "cancelled"
  | "expired"
  | "nonceTooLow"
  | "feeAccount"
  | "seriesNotFound"
  | "seriesExpired"
  | "filled";

export type VerifyOrderReturnType =
  { valid: true; hash: Hash; remaining: bigint } | { valid: false; hash: Hash | undefined; problem: OrderProblem };

export type VerifyOrderErrorType = PledgeErrorType | ReadContractErrorType;

/**
 * Whether a signed order from an order book can be filled at all, before anyone previews it, with
 * the order-only checks of `OptionMarket.fill` in its order: its fields fit their types; it is not
 * cancelled, expired or below the account's minimum nonce (`getOrderStatus`); its maker is not the
 * market's fee account; its series exists and has not expired at the block read; something is left
 * (`remaining`); and it is signed for this chain and market by its owner, an operator the owner
 * approved, or the owner's ERC-1271 check (`verifyOrderSignature`). What depends on the taker —
 * who, how much, margin — is left to `simulateFill`.
 *
 * @example
 * const check = await verifyOrder(publicClient, { signedOrder, addressBook });
 * if (check.valid) console.log(`${check.remaining} contracts fillable`);
 * else console.log(`hidden: ${check.problem}`);
 */
export async function verifyOrder(client: ReadClient, params: VerifyOrderParameters): Promise<VerifyOrderReturnType> {
  const { signedOrder, addressBook } = params;
  const { order } = signedOrder;
  if (!orderInRange(order)) return { valid: false, hash: undefined, problem: "outOfRange" };
  await assertChain(client, addressBook);
  const block = await getBlock(client, params.blockNumber === undefined ? {} : { blockNumber: params.blockNumber });
  const blockNumber = block.number;
  const hash = orderDigest(order, addressBook);
  const market = { address: addressBook.contracts.OptionMarket, abi: optionMarketAbi, blockNumber } as const;
  const [status, feeAccount, seriesExists] = await Promise.all([
    getOrderStatus(client, { order, addressBook, blockNumber }),
    readContract(client, { ...market, functionName: "feeAccount" }),
    readContract(client, { ...market, functionName: "seriesExists", args: [order.seriesId] }),
  ]);
  // `_checkFill`: cancelled, expired, nonce, (taker, self-trade,) fee account, series, overfill.
  if (status.state === "cancelled" || status.state === "expired" || status.state === "nonceTooLow")
    return { valid: false, hash, problem: status.state };
  if (feeAccount !== 0n && order.account === feeAccount) return { valid: false, hash, problem: "feeAccount" };
  if (!seriesExists) return { valid: false, hash, problem: "seriesNotFound" };
  if (block.timestamp >= decodeSeries(order.seriesId).expiry) return { valid: false, hash, problem: "seriesExpired" };
  if (status.state === "filled") return { valid: false, hash, problem: "filled" };
  // `fill` checks the signature after `_checkFill`.
  if (!(await verifyOrderSignature(client, { signedOrder, addressBook, blockNumber })))
    return { valid: false, hash, problem: "invalidSignature" };
  return { valid: true, hash, remaining: status.remaining };
}
