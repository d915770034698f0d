import { type PublicClient, type WalletClient, createPublicClient, createWalletClient, custom } from "viem";

/**
 * The keeper's own clients around the given ones: every JSON-RPC request is reported to
 * `onRequest` (so the keeper counts its calls), and reads issued together go out as one
 * `eth_call` (viem's deployless multicall: no Multicall3 needed on chain).
 *
 * @example
 * const clients = countingClients(publicClient, walletClient, (method) => calls++);
 */
export function countingClients(
  publicClient: PublicClient,
  walletClient: WalletClient,
  onRequest: (method: string) => void,
): { publicClient: PublicClient; walletClient: WalletClient } {
  const counting = (client: { request: (args: never) => Promise<unknown> }) =>
    custom(
      {
        request: (args: { method: string; params?: unknown }) => {
          onRequest(args.method);
          return client.request(args as never);
        },
      },
      { retryCount: 0 },
    );
  return {
    publicClient: createPublicClient({
      chain: publicClient.chain,
      transport: counting(publicClient),
      pollingInterval: publicClient.pollingInterval,
      cacheTime: 0,
      batch: { multicall: { deployless: true, batchSize: 4_096 } },
    }),
    walletClient: createWalletClient({
      account: walletClient.account,
      chain: walletClient.chain,
      transport: counting(walletClient),
      pollingInterval: walletClient.pollingInterval,
    }),
  };
}
