import { type PublicClient, type WalletClient, createPublicClient, createWalletClient, custom } from "viem";

/**
 * Most calldata, bytes, of one batched read. A deployless multicall returns its answer as the
 * code of a contract it never deploys, which EIP-170 caps at 24,576 bytes. The widest answer per
 * byte of calldata is `auctionOf`'s: 36 bytes of calldata, 320 of answer (its 192 plus the
 * multicall's offset, success flag and length), about 9×, and a batch may hold nothing else (a
 * caller's reads issued a microtask apart go out in separate batches): 2,048 bytes of calldata
 * answer at most ~18 KB. (3,072 assumed `auctionOf` and `previewBid` paired, about 7×, and
 * overflowed at 216 accounts once they were not.)
 */
const MAX_BATCH_CALLDATA = 2_048;

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
      batch: { multicall: { deployless: true, batchSize: MAX_BATCH_CALLDATA } },
    }),
    walletClient: createWalletClient({
      account: walletClient.account,
      chain: walletClient.chain,
      transport: counting(walletClient),
      pollingInterval: walletClient.pollingInterval,
    }),
  };
}
