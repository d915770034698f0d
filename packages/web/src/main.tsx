import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { http } from "viem";
import { WagmiProvider, createConfig } from "wagmi";

import { App } from "./App.js";
import { type AppConfig, LOCAL_CHAIN_ID, chainOf, loadConfig } from "./config.js";
import { devAccountsOf } from "./devAccounts.js";
import { devAccount } from "./devConnector.js";
import "./style.css";

/**
 * wagmi with EIP-6963 discovery (every injected wallet that announces itself) and, on a local
 * node, its development accounts; one chain, over the RPC of `pledge.json`.
 */
function wagmiConfig(config: AppConfig) {
  const chain = chainOf(config);
  // Development accounts only on the local chain with a loopback RPC (`npm run app`'s node).
  const dev = devAccountsOf(config, window.location.href).accounts;
  return createConfig({
    chains: [chain],
    transports: { [chain.id]: http(config.rpcUrl, { batch: true }) },
    connectors: dev.map((d) => devAccount({ ...d, chain, rpcUrl: config.rpcUrl })),
    multiInjectedProviderDiscovery: true,
    pollingInterval: config.chainId === LOCAL_CHAIN_ID ? 500 : 4_000,
    storage: null,
  });
}

const root = createRoot(document.getElementById("root")!);
loadConfig().then(
  (config) => {
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });
    root.render(
      <StrictMode>
        <WagmiProvider config={wagmiConfig(config)}>
          <QueryClientProvider client={queryClient}>
            <App config={config} warning={devAccountsOf(config, window.location.href).ignored} />
          </QueryClientProvider>
        </WagmiProvider>
      </StrictMode>,
    );
  },
  (error: unknown) => root.render(<p className="error">{(error as Error).message}</p>),
);
