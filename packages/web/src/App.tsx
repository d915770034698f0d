import { Suspense } from "react";
import { useBlockNumber, useConnect, useConnection, useConnectors, useDisconnect } from "wagmi";

import type { AppConfig } from "./config.js";
import { preloaded } from "./preload.js";

/**
 * The account screen and everything after it (the SDK, its ABIs and the screens), in chunks of
 * their own: the first chunk only has to draw the connect buttons. Fetching starts at once, so the
 * chunks are there by the time a wallet is connected.
 */
const Trader = preloaded(import("./Trader.js").then((m) => m.Trader));

/** The app: connect, then the account (deposit, withdraw), its positions and health. */
export function App({ config, warning }: { config: AppConfig; warning?: string | undefined }) {
  const { address, status } = useConnection();
  // The block watcher runs from the start: the account's reads begin at a known block the moment
  // a wallet connects, one round trip sooner (`useLive`).
  useBlockNumber({ watch: true });
  return (
    <main>
      <header>
        <h1>Pledge</h1>
        <span className="chain">chain {config.chainId}</span>
        <Connect />
      </header>
      {warning && (
        <p className="error" data-testid="config-warning">
          {warning}
        </p>
      )}
      {address && status === "connected" ? (
        <Suspense fallback={<p className="muted">Loading the account…</p>}>
          <Trader config={config} owner={address} />
        </Suspense>
      ) : (
        <p className="hint">Connect a wallet to see your account.</p>
      )}
    </main>
  );
}

/** EIP-6963 wallets wagmi discovered, and the development accounts on a local node. */
function Connect() {
  const { address, connector } = useConnection();
  const connectors = useConnectors();
  const { connect, error, isPending } = useConnect();
  const { disconnect } = useDisconnect();
  if (address)
    return (
      <div className="connect">
        <span data-testid="connected-address">{address}</span> <span className="muted">({connector?.name})</span>{" "}
        <button onClick={() => disconnect()}>Disconnect</button>
      </div>
    );
  return (
    <div className="connect">
      {connectors.length === 0 && <span className="muted">No wallet found (install one that supports EIP-6963).</span>}
      {connectors.map((c) => (
        <button
          key={c.uid}
          disabled={isPending}
          onClick={() => connect({ connector: c })}
          data-testid={`connect-${c.id}`}
        >
          {c.icon && <img src={c.icon} alt="" width={16} height={16} />} {c.name}
        </button>
      ))}
      {error && <span className="error">{error.message.split("\n")[0]}</span>}
    </div>
  );
}
