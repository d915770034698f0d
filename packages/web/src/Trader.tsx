import {
  accountGreeks,
  Account,
  type AccountId,
  type MarginInputs,
  accountId,
  deposit,
  formatAccount,
  getBalances,
  getMarginInputs,
  healthName,
  MarginMode,
  withdraw,
} from "@pledge/sdk";
import { useQueryClient } from "@tanstack/react-query";
import { Suspense, useState } from "react";
import { type Address, erc20Abi } from "viem";
import { useConnectorClient, usePublicClient } from "wagmi";

import type { AppConfig } from "./config.js";
import { TxStatus, type TxState, useLive } from "./live.js";
import { MarginModeControl } from "./MarginModeControl.js";
import { type Token, errorSentence, parseAmount, positionViews, tokensOf, units, usd } from "./lib.js";
import { preloaded } from "./preload.js";

/*
 * The screens below the account's health, each a chunk of its own, fetched as soon as this one
 * runs (`preloaded`); they render once the account's first read is shown, so their reads never hold
 * up the positions and health.
 */
const Trade = preloaded(import("./Trade.js").then((m) => m.Trade));
const Auctions = preloaded(import("./Auctions.js").then((m) => m.Auctions));
const History = preloaded(import("./History.js").then((m) => m.History));
const WhatIf = preloaded(import("./WhatIf.js").then((m) => m.WhatIf));

interface Snapshot {
  inputs: MarginInputs;
  cash: bigint;
  collateral: { asset: Address; amount: bigint }[];
  wallet: bigint[];
}

/** The connected owner's account: balances, deposit and withdraw, health, positions, then the other screens. */
export function Trader({ config, owner }: { config: AppConfig; owner: Address }) {
  const [sub, setSub] = useState(1n);
  const account = accountId(owner, sub);
  const publicClient = usePublicClient()!;
  const book = config.addressBook;
  const tokens = tokensOf(book);
  // Everything at the block the watcher last saw: one consistent snapshot, and the SDK reads the
  // block's header alongside the account's first round of reads (three round trips in all).
  const live = useLive(["account", account.toString()], async (blockNumber): Promise<Snapshot> => {
    const [inputs, balances, wallet] = await Promise.all([
      getMarginInputs(publicClient, { addressBook: book, account, blockNumber }),
      getBalances(publicClient, { addressBook: book, account, blockNumber }),
      Promise.all(
        tokens.map((t) =>
          publicClient.readContract({
            address: t.address,
            abi: erc20Abi,
            functionName: "balanceOf",
            args: [owner],
            blockNumber,
          }),
        ),
      ),
    ]);
    return { inputs, cash: balances.cash, collateral: balances.collateral, wallet };
  });
  const names = underlyingNames(config, live.data);
  return (
    <>
      <section>
        <h2>
          Account <code data-testid="account-id">{formatAccount(account)}</code>
        </h2>
        <label>
          Subaccount{" "}
          <input
            type="number"
            min={0}
            value={sub.toString()}
            onChange={(e) => setSub(BigInt(Math.max(0, Math.floor(Number(e.target.value) || 0))))}
            data-testid="subaccount"
          />
        </label>
        {live.error && <p className="error">{errorSentence(live.error, book)}</p>}
        {live.data && (
          <MarginModeControl addressBook={book} account={account} mode={live.data.inputs.mode ?? MarginMode.CROSS} />
        )}
        {live.data && <Balances tokens={tokens} snapshot={live.data} />}
      </section>
      <Transfers config={config} account={account} tokens={tokens} snapshot={live.data} />
      {live.data && <Health config={config} inputs={live.data.inputs} names={names} />}
      {live.data && (
        <Suspense fallback={null}>
          <Trade addressBook={book} account={account} owner={owner} names={names} />
          {config.indexerUrl && <Auctions addressBook={book} indexerUrl={config.indexerUrl} account={account} />}
          {config.indexerUrl && <History addressBook={book} indexerUrl={config.indexerUrl} account={account} />}
        </Suspense>
      )}
    </>
  );
}

/**
 * Where a token stands in the account, looked up by its address (never by its place in the
 * address book, whose order may differ from the vault's): the amount held and the SDK's exact
 * withdrawable maximum (`maxWithdrawableCollateral` takes the index in the margin inputs).
 */
function holding(snapshot: Snapshot, token: Token, isCash: boolean): { held: bigint; max: bigint } {
  const trader = new Account(snapshot.inputs);
  if (isCash) return { held: snapshot.cash, max: trader.maxWithdrawableCash() };
  const same = (address: string) => address.toLowerCase() === token.address.toLowerCase();
  // getBalances and getMarginInputs both list the vault's collateralAssets(), in its order.
  const index = snapshot.collateral.findIndex((c) => same(c.asset));
  if (index === -1) return { held: 0n, max: 0n };
  return { held: snapshot.collateral[index]!.amount, max: trader.maxWithdrawableCollateral(index) };
}

/** The account's holdings and what may leave it, per token, in units. */
function Balances({ tokens, snapshot }: { tokens: Token[]; snapshot: Snapshot }) {
  return (
    <table data-testid="balances">
      <thead>
        <tr>
          <th>Asset</th>
          <th>In the account</th>
          <th>Withdrawable now</th>
          <th>In the wallet</th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t, i) => {
          const { held, max } = holding(snapshot, t, i === 0);
          return (
            <tr key={t.address}>
              <td>{t.symbol}</td>
              <td data-testid={`balance-${t.symbol}`}>{units(held, t.decimals, t.symbol)}</td>
              <td data-testid={`max-${t.symbol}`}>{units(max, t.decimals, t.symbol)}</td>
              <td data-testid={`wallet-${t.symbol}`}>{units(snapshot.wallet[i] ?? 0n, t.decimals, t.symbol)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Deposit (approve, then deposit) and withdraw (up to the SDK's exact maximum), with their states. */
function Transfers({
  config,
  account,
  tokens,
  snapshot,
}: {
  config: AppConfig;
  account: AccountId;
  tokens: Token[];
  snapshot: Snapshot | undefined;
}) {
  const book = config.addressBook;
  const publicClient = usePublicClient()!;
  const { data: signer } = useConnectorClient();
  const queryClient = useQueryClient();
  const [tokenIndex, setTokenIndex] = useState(0);
  const [amountText, setAmountText] = useState("");
  const [tx, setTx] = useState<TxState>({ kind: "idle" });
  const [permit, setPermit] = useState(false);
  const token = tokens[tokenIndex]!;
  const max = snapshot ? holding(snapshot, token, tokenIndex === 0).max : undefined;

  async function run(kind: "deposit" | "withdraw") {
    const amount = parseAmount(amountText, token);
    if (typeof amount === "string") return setTx({ kind: "failed", text: amount });
    if (!signer) return setTx({ kind: "failed", text: "The wallet is not ready: connect again." });
    const what = `${units(amount, token.decimals, token.symbol)}`;
    setTx({
      kind: "pending",
      text:
        kind === "withdraw"
          ? `Withdrawing ${what}…`
          : permit
            ? `Depositing ${what} (sign a permit, then deposit)…`
            : `Depositing ${what} (approve if needed, then deposit)…`,
    });
    try {
      const params = { publicClient, addressBook: book, account, asset: token.address, amount };
      const { receipt } =
        kind === "deposit" ? await deposit(signer, { ...params, permit }) : await withdraw(signer, params);
      setTx({
        kind: "confirmed",
        text: `${kind === "deposit" ? "Deposited" : "Withdrew"} ${what} (block ${receipt.blockNumber}).`,
      });
    } catch (error) {
      setTx({ kind: "failed", text: errorSentence(error, book) });
    } finally {
      await queryClient.invalidateQueries();
    }
  }

  const busy = tx.kind === "pending";
  return (
    <section>
      <h2>Deposit and withdraw</h2>
      <div className="row">
        <select
          value={tokenIndex}
          onChange={(e) => setTokenIndex(Number(e.target.value))}
          data-testid="asset"
          disabled={busy}
        >
          {tokens.map((t, i) => (
            <option key={t.address} value={i}>
              {t.symbol}
            </option>
          ))}
        </select>
        <input
          inputMode="decimal"
          placeholder={`amount in ${token.symbol}`}
          value={amountText}
          onChange={(e) => setAmountText(e.target.value)}
          data-testid="amount"
          disabled={busy}
        />
        <button onClick={() => run("deposit")} disabled={busy} data-testid="deposit">
          Deposit
        </button>
        <button onClick={() => run("withdraw")} disabled={busy} data-testid="withdraw">
          Withdraw
        </button>
        <button
          onClick={() =>
            max !== undefined &&
            setAmountText(units(max, token.decimals, undefined, token.decimals).replaceAll(",", ""))
          }
          disabled={busy || max === undefined}
          data-testid="max"
          title="The most the account can withdraw and stay above initial margin (the SDK's exact mirror)"
        >
          Max
        </button>
        <label title="Approve with an EIP-2612 signature in the deposit transaction instead of an approve transaction">
          <input type="checkbox" checked={permit} onChange={(e) => setPermit(e.target.checked)} data-testid="permit" />{" "}
          permit
        </label>
      </div>
      <TxStatus tx={tx} testId="tx-status" />
    </section>
  );
}

/** The engine's underlying indexes named after the collateral that is each underlying (WBTC: BTC). */
function underlyingNames(config: AppConfig, snapshot: Snapshot | undefined): Map<number, string> {
  const names = new Map<number, string>();
  // By asset address: the balances and margin inputs list the vault's collateral in its order.
  for (const c of config.addressBook.collateral) {
    const at = snapshot?.collateral.findIndex((x) => x.asset.toLowerCase() === c.address.toLowerCase()) ?? -1;
    const index = at === -1 ? undefined : snapshot?.inputs.collateral[at]?.underlyingIndex;
    if (index !== undefined) names.set(index, c.symbol.replace(/^W(?=[A-Z]{3})/, ""));
  }
  return names;
}

/** Positions with marks and Greeks, and the account's health: excess over IM and MM, a gauge. */
function Health({ inputs, names }: { config: AppConfig; inputs: MarginInputs; names: Map<number, string> }) {
  const margin = new Account(inputs).margin();
  const views = positionViews(inputs, names);
  const excessIM = margin.equityIM - margin.requirementIM;
  const excessMM = margin.equityMM - margin.requirementMM;
  // The gauge: the share of maintenance equity the requirement takes (100 % is liquidatable).
  const used =
    margin.equityMM <= 0n ? 100 : Math.min(100, Number((margin.requirementMM * 10_000n) / margin.equityMM) / 100);
  // Value, vega and theta are in USD and add up over the account; delta and gamma are in units
  // of an underlying, so they add up per underlying only (a BTC delta plus an ETH delta is no number).
  const { valueWad, vega, theta, byUnderlying: perUnderlying } = accountGreeks(inputs, views);
  const total = { value: valueWad, vega, theta };
  const g = (wad: bigint, digits = 4) => units(wad, 18, undefined, digits);
  return (
    <>
      <section>
        <h2>Health</h2>
        <p>
          <strong data-testid="health">{healthName(margin.health)}</strong>
        </p>
        <meter min={0} max={100} low={60} high={85} optimum={0} value={used} data-testid="gauge" />{" "}
        <span className="muted">maintenance requirement / equity: {used.toFixed(1)} %</span>
        <Suspense fallback={null}>
          <WhatIf inputs={inputs} views={views} names={names} />
        </Suspense>
        <table>
          <tbody>
            <tr>
              <td>Equity (initial / maintenance)</td>
              <td>
                {usd(margin.equityIM)} / {usd(margin.equityMM)}
              </td>
            </tr>
            <tr>
              <td>Requirement (initial / maintenance)</td>
              <td>
                {usd(margin.requirementIM)} / {usd(margin.requirementMM)}
              </td>
            </tr>
            <tr>
              <td>Excess over IM</td>
              <td data-testid="excess-im">{usd(excessIM)}</td>
            </tr>
            <tr>
              <td>Excess over MM</td>
              <td data-testid="excess-mm">{usd(excessMM)}</td>
            </tr>
          </tbody>
        </table>
      </section>
      <section>
        <h2>Positions</h2>
        {views.length === 0 ? (
          <p className="muted">No positions.</p>
        ) : (
          <table data-testid="positions">
            <thead>
              <tr>
                <th>Series</th>
                <th>Size</th>
                <th>Mark</th>
                <th>Value</th>
                <th>Delta</th>
                <th>Gamma</th>
                <th>Vega</th>
                <th>Theta / day</th>
              </tr>
            </thead>
            <tbody>
              {views.map((v, i) => (
                <tr key={v.seriesId.toString()} data-testid={`position-${i}`}>
                  <td>{v.label}</td>
                  <td data-testid="pos-size">{g(v.balance)}</td>
                  <td data-testid="pos-mark">{usd(v.markWad)}</td>
                  <td data-testid="pos-value">{usd(v.valueWad)}</td>
                  <td data-testid="pos-delta">{v.greeks ? g(v.greeks.delta) : "expired"}</td>
                  <td data-testid="pos-gamma">{v.greeks ? g(v.greeks.gamma, 8) : ""}</td>
                  <td data-testid="pos-vega">{v.greeks ? usd(v.greeks.vega / 100n) : ""}</td>
                  <td data-testid="pos-theta">{v.greeks ? usd(v.greeks.theta) : ""}</td>
                </tr>
              ))}
              {[...perUnderlying].map(([index, sum]) => (
                <tr className="total" key={`u-${index}`} data-testid={`total-${names.get(index) ?? index}`}>
                  <td>{names.get(index) ?? `#${index}`} (all series)</td>
                  <td />
                  <td />
                  <td />
                  <td data-testid="total-delta">{g(sum.delta)}</td>
                  <td data-testid="total-gamma">{g(sum.gamma, 8)}</td>
                  <td />
                  <td />
                </tr>
              ))}
              <tr className="total" data-testid="total-account">
                <td>Account</td>
                <td />
                <td />
                <td>{usd(total.value)}</td>
                <td />
                <td />
                <td data-testid="total-vega">{usd(total.vega / 100n)}</td>
                <td data-testid="total-theta">{usd(total.theta)}</td>
              </tr>
            </tbody>
          </table>
        )}
        <p className="muted">
          Marks and Greeks from the SDK at block time (analytic Black–Scholes). Vega per 1 vol point, gamma per 1 USD of
          spot, theta per day.
        </p>
      </section>
    </>
  );
}
