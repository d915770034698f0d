import { type AccountId, type AddressBook, MarginMode, setMarginMode } from "@pledge/sdk";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useConnectorClient, usePublicClient } from "wagmi";

import { TxStatus, type TxState } from "./live.js";
import { errorSentence } from "./lib.js";

const MODES = [
  { value: MarginMode.CROSS, label: "cross (standard)" },
  { value: MarginMode.ISOLATED, label: "isolated" },
  { value: MarginMode.PORTFOLIO, label: "portfolio" },
] as const;

/** The account's margin mode, and the SDK's `setMarginMode` (locked while it holds a position). */
export function MarginModeControl({
  addressBook,
  account,
  mode,
}: {
  addressBook: AddressBook;
  account: AccountId;
  mode: MarginMode;
}) {
  const publicClient = usePublicClient()!;
  const { data: signer } = useConnectorClient();
  const queryClient = useQueryClient();
  const [tx, setTx] = useState<TxState>({ kind: "idle" });
  async function choose(next: MarginMode) {
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    const label = MODES.find((m) => m.value === next)?.label ?? String(next);
    setTx({ kind: "pending", text: `Setting the margin mode to ${label}…` });
    try {
      const { receipt } = await setMarginMode(signer, { publicClient, addressBook, account, mode: next });
      setTx({ kind: "confirmed", text: `Margin mode ${label} (block ${receipt.blockNumber}).` });
    } catch (error) {
      setTx({ kind: "failed", text: errorSentence(error, addressBook) });
    } finally {
      await queryClient.invalidateQueries();
    }
  }
  return (
    <div>
      <label>
        Margin mode{" "}
        <select
          value={mode}
          onChange={(e) => choose(Number(e.target.value) as MarginMode)}
          disabled={tx.kind === "pending"}
          data-testid="margin-mode"
        >
          {MODES.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
      </label>
      <TxStatus tx={tx} testId="mode-status" />
    </div>
  );
}
