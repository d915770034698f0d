import {
  type Address,
  type Hash,
  type TypedDataDomain,
  type SimulateContractErrorType,
  type WriteContractErrorType,
  erc20Abi,
  parseSignature,
} from "viem";
import { getChainId, getEip712Domain, readContract, signTypedData, simulateContract } from "viem/actions";

import { collateralVaultAbi, mockErc20Abi } from "../../abis/index.js";
import type { PledgeErrorType } from "../../errors.js";
import {
  type ReadClient,
  type SignerClient,
  type WriteParameters,
  type WriteReturnType,
  assertAsset,
  assertWriteChain,
  contractAddress,
  sendRequest,
  withPledgeErrors,
} from "../../internal/actions.js";
import type { AccountId } from "../../accounts.js";

export interface DepositParameters extends WriteParameters {
  /** Account id credited (see `getAccountId`). */
  account: AccountId;
  /** A listed token: the cash asset or a collateral asset. */
  asset: Address;
  /** Native token units. */
  amount: bigint;
  vault?: Address | undefined;
  /**
   * Approve with an EIP-2612 signature and `depositWithPermit` (one transaction)
   * instead of an `approve` transaction when the allowance is short. `true` uses a
   * one-hour deadline.
   */
  permit?: boolean | { deadline: bigint } | undefined;
}

export type DepositReturnType = WriteReturnType<void> & {
  /** The `approve` transaction sent first, if the allowance was short and `permit` was off. */
  approveHash?: Hash;
};

export type DepositErrorType = PledgeErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Deposits `amount` of `asset` from the caller into `account`. Without `permit`, sends an
 * exact `approve` first when the vault's allowance is short; with `permit`, signs an
 * EIP-2612 permit and calls `depositWithPermit`. Before anything is sent, an asset the address
 * book does not list throws `UnknownAssetError`, one without code `ContractNotDeployedError`, and
 * a client on another chain `WrongChainError`.
 *
 * @example
 * await deposit(walletClient, {
 *   publicClient,
 *   addressBook,
 *   account: getAccountId(walletClient, { subId: 1n }),
 *   asset: addressBook.cash.address,
 *   amount: 5_000_000000n, // 5,000 USDC
 *   permit: true,
 * });
 */
export async function deposit(client: SignerClient, params: DepositParameters): Promise<DepositReturnType> {
  const vault = contractAddress(params.vault, params.addressBook, "CollateralVault");
  const { publicClient, account, asset, amount } = params;
  const owner = client.account.address;
  return withPledgeErrors(
    async () => {
      await assertWriteChain(client, params);
      await assertAsset(publicClient, params.addressBook, asset);
      const allowance = await readContract(publicClient, {
        address: asset,
        abi: erc20Abi,
        functionName: "allowance",
        args: [owner, vault],
      });
      if (params.permit && allowance < amount) {
        const deadline =
          typeof params.permit === "object" ? params.permit.deadline : BigInt(Math.floor(Date.now() / 1000) + 3600);
        const { v, r, s } = await signPermit(client, publicClient, { token: asset, spender: vault, amount, deadline });
        const { request } = await simulateContract(publicClient, {
          account: client.account,
          address: vault,
          abi: collateralVaultAbi,
          functionName: "depositWithPermit",
          args: [account, asset, amount, deadline, v, r, s],
        });
        return { ...(await sendRequest(client, publicClient, request)), result: undefined };
      }
      let approveHash: Hash | undefined;
      if (allowance < amount) {
        const { request } = await simulateContract(publicClient, {
          account: client.account,
          address: asset,
          abi: erc20Abi,
          functionName: "approve",
          args: [vault, amount],
        });
        approveHash = (await sendRequest(client, publicClient, request)).hash;
      }
      const { request } = await simulateContract(publicClient, {
        account: client.account,
        address: vault,
        abi: collateralVaultAbi,
        functionName: "deposit",
        args: [account, asset, amount],
      });
      const { hash, receipt } = await sendRequest(client, publicClient, request);
      return approveHash ? { hash, receipt, result: undefined, approveHash } : { hash, receipt, result: undefined };
    },
    { client: publicClient, addressBook: params.addressBook },
  );
}

/** Signs an EIP-2612 permit, reading the token's EIP-712 domain (ERC-5267) and nonce. */
async function signPermit(
  client: SignerClient,
  publicClient: ReadClient,
  { token, spender, amount, deadline }: { token: Address; spender: Address; amount: bigint; deadline: bigint },
) {
  const owner = client.account.address;
  const [domain, nonce] = await Promise.all([
    permitDomain(publicClient, token),
    readContract(publicClient, { address: token, abi: mockErc20Abi, functionName: "nonces", args: [owner] }),
  ]);
  const signature = await signTypedData(client, {
    account: client.account,
    domain,
    types: {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "Permit",
    message: { owner, spender, value: amount, nonce, deadline },
  });
  const { r, s, v, yParity } = parseSignature(signature);
  return { r, s, v: Number(v ?? BigInt(yParity) + 27n) };
}

/**
 * The token's EIP-712 domain from ERC-5267 `eip712Domain()`, keeping only the fields its
 * bitmap marks as used (OpenZeppelin returns a zero salt that is not part of the domain);
 * tokens without ERC-5267 get `{ name(), "1", chainId, token }`.
 */
async function permitDomain(publicClient: ReadClient, token: Address): Promise<TypedDataDomain> {
  try {
    const { domain, fields } = await getEip712Domain(publicClient, { address: token });
    const used = Number.parseInt(fields.slice(2) || "0", 16);
    return {
      ...(used & 0x01 ? { name: domain.name } : {}),
      ...(used & 0x02 ? { version: domain.version } : {}),
      ...(used & 0x04 ? { chainId: domain.chainId } : {}),
      ...(used & 0x08 ? { verifyingContract: domain.verifyingContract } : {}),
      ...(used & 0x10 ? { salt: domain.salt } : {}),
    };
  } catch {
    const [name, chainId] = await Promise.all([
      readContract(publicClient, { address: token, abi: mockErc20Abi, functionName: "name" }),
      getChainId(publicClient),
    ]);
    return { name, version: "1", chainId, verifyingContract: token };
  }
}
