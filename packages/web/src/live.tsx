import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useBlockNumber } from "wagmi";

/**
 * Runs `read` at the head the block watcher last saw (passed to it, so its reads are one
 * consistent snapshot), again on every new block, and every `everyMs` when given (for the
 * indexer, which may index a block after the page saw it); keeps the last value while the next
 * loads. The app's watcher runs before any wallet connects, so the first read starts at once.
 */
export function useLive<T>(key: readonly unknown[], read: (blockNumber: bigint) => Promise<T>, everyMs?: number) {
  const { data: block } = useBlockNumber({ watch: true });
  return useQuery({
    queryKey: [...key, block?.toString()],
    queryFn: () => read(block!),
    enabled: block !== undefined,
    placeholderData: keepPreviousData,
    ...(everyMs === undefined ? {} : { refetchInterval: everyMs }),
  });
}

/** A transaction's state as the page shows it. */
export type TxState =
  | { kind: "idle" }
  | { kind: "pending"; text: string }
  | { kind: "confirmed"; text: string }
  | { kind: "failed"; text: string };

/** "Pending: …", "Confirmed: …" or the failure's sentence. */
export function TxStatus({ tx, testId }: { tx: TxState; testId: string }) {
  if (tx.kind === "idle") return null;
  return (
    <p className={`tx ${tx.kind}`} data-testid={testId} data-state={tx.kind}>
      {tx.kind === "pending" ? "Pending: " : tx.kind === "confirmed" ? "Confirmed: " : ""}
      {tx.text}
    </p>
  );
}
