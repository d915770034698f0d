import { createConnector } from "wagmi";
import {
  type Chain,
  type Hex,
  type TypedDataDefinition,
  createWalletClient,
  hexToBigInt,
  hexToNumber,
  http,
  numberToHex,
} from "viem";

interface RpcTransaction {
  to?: Hex | null;
  data?: Hex;
  value?: Hex;
  gas?: Hex;
  nonce?: Hex;
}

/**
 * A wagmi connector for a development account: a local private-key account (viem's
 * `privateKeyToAccount`) that signs in the page and sends raw transactions to the node, so the
 * local demo needs no browser extension. Its EIP-1193 provider answers the account requests
 * itself and forwards everything else to the node. Offered only on the local chain. The key's
 * curve arithmetic (`viem/accounts`) is a chunk of its own, fetched at once but off the first
 * chunk, which only has to draw the connect buttons.
 */
export function devAccount(parameters: { privateKey: Hex; label: string; chain: Chain; rpcUrl: string }) {
  const signer = import("viem/accounts").then(({ privateKeyToAccount }) => {
    const account = privateKeyToAccount(parameters.privateKey);
    return {
      account,
      wallet: createWalletClient({ account, chain: parameters.chain, transport: http(parameters.rpcUrl) }),
    };
  });
  let connected = false;
  const provider = {
    async request({ method, params }: { method: string; params?: unknown }): Promise<unknown> {
      const args = (params ?? []) as unknown[];
      const { account, wallet } = await signer;
      switch (method) {
        case "eth_accounts":
          return connected ? [account.address] : [];
        case "eth_requestAccounts":
          return [account.address];
        case "eth_chainId":
          return numberToHex(parameters.chain.id);
        case "eth_sendTransaction": {
          const tx = args[0] as RpcTransaction;
          return wallet.sendTransaction({
            to: tx.to ?? null,
            data: tx.data,
            value: tx.value === undefined ? undefined : hexToBigInt(tx.value),
            gas: tx.gas === undefined ? undefined : hexToBigInt(tx.gas),
            nonce: tx.nonce === undefined ? undefined : hexToNumber(tx.nonce),
          });
        }
        case "eth_signTypedData_v4":
          return account.signTypedData(JSON.parse(args[1] as string) as TypedDataDefinition);
        case "personal_sign":
          return account.signMessage({ message: { raw: args[0] as Hex } });
        case "wallet_switchEthereumChain":
          return null;
        default:
          return wallet.request({ method, params } as never);
      }
    },
  };
  return createConnector<typeof provider>((config) => ({
    id: `dev-${parameters.label}`,
    name: parameters.label,
    type: "development",
    async connect(options?: { chainId?: number | undefined; withCapabilities?: boolean | undefined }) {
      const { account } = await signer;
      connected = true;
      const accounts = options?.withCapabilities ? [{ address: account.address, capabilities: {} }] : [account.address];
      return { accounts, chainId: parameters.chain.id } as never;
    },
    async disconnect() {
      connected = false;
    },
    async getAccounts() {
      return connected ? [(await signer).account.address] : [];
    },
    async getChainId() {
      return parameters.chain.id;
    },
    async getProvider() {
      return provider;
    },
    async isAuthorized() {
      return false;
    },
    async switchChain({ chainId }: { chainId: number }) {
      if (chainId !== parameters.chain.id)
        throw new Error(`a development account is on chain ${parameters.chain.id} only`);
      return parameters.chain;
    },
    onAccountsChanged() {},
    onChainChanged() {},
    onDisconnect() {
      connected = false;
      config.emitter.emit("disconnect");
    },
  }));
}
