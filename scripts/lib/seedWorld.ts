import { network } from "hardhat";
import { type Hash, maxUint256, parseUnits } from "viem";

import { deployPledge } from "../../deploy/deployPledge.js";
import { type Order, accountId, asAccountId, orderDomain, orderTypes, seriesId } from "../../packages/sdk/src/index.js";
import { toFeedAnswer } from "./history.js";
import { expiryAfter, toContractsWad } from "./population.js";

/** BTC is the engine's second underlying in the local deployment. */
const BTC_INDEX = 2;
const DAY = 86_400;

/**
 * A fresh in-process chain with Pledge, a market maker, keeper bidder accounts and
 * `accounts` traders short one BTC call each, sized to sit just above initial margin.
 * The keeper's, indexer's and web app's tests seed this world, and so does `npm run app`
 * (`scripts/lib/app.ts`): production scripts import it from here, never from `test/`.
 */
export async function createWorld(options: {
  accounts: number;
  keepers?: number;
  expiryDays?: number;
  spot?: number;
  /** Put every trader on portfolio margin before it trades. */
  portfolio?: boolean;
  /** A connection to use instead of a new in-process chain (a node served over HTTP, for CLI tests). */
  connection?: Awaited<ReturnType<typeof network.create>>;
  /** The Ignition deployment id (its journal's folder under ignition/deployments) on a node over HTTP. */
  deploymentId?: string;
}) {
  const connection = options.connection ?? (await network.create());
  const { contracts, book } = await deployPledge(connection, { writeBook: false, deploymentId: options.deploymentId });
  const publicClient = await connection.viem.getPublicClient();
  const testClient = await connection.viem.getTestClient();
  const wallets = await connection.viem.getWalletClients();
  const [, makerWallet, traderWallet, ...keeperWallets] = wallets;
  if (!makerWallet || !traderWallet) throw new Error("world: need wallets");
  const { vault, engine, market, usdc, btcUsd, btcVol, ethUsd, ethVol } = contracts;
  const chainId = await publicClient.getChainId();
  const mined = async (send: () => Promise<Hash>) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash: await send() });
    if (receipt.status !== "success") throw new Error("world: reverted");
    return receipt;
  };
  const fund = async (wallet: NonNullable<(typeof wallets)[number]>, account: bigint, cash: bigint) => {
    await mined(() => usdc.write.mint([wallet.account.address, cash]));
    await mined(() => usdc.write.approve([vault.address, maxUint256], { account: wallet.account }));
    await mined(() => vault.write.deposit([account, usdc.address, cash], { account: wallet.account }));
  };
  const marketMaker = accountId(makerWallet.account.address, 1n);
  await fund(makerWallet, marketMaker, parseUnits("100000000", 6));
  const keepers = keeperWallets.slice(0, options.keepers ?? 1).map((wallet) => ({
    wallet,
    bidderAccount: accountId(wallet.account.address, 1n),
  }));
  for (const keeper of keepers) await fund(keeper.wallet, keeper.bidderAccount, parseUnits("50000000", 6));

  const spot = options.spot ?? 60_000;
  const setSpot = (price: number) => mined(() => btcUsd.write.updateAnswer([toFeedAnswer(price)]));
  /** Re-posts every feed at its current answer (after moving time), and BTC at `btcPrice` when given. */
  const refreshFeeds = async (btcPrice?: number) => {
    for (const feed of [ethUsd, ethVol, btcVol]) {
      const [, answer] = await feed.read.latestRoundData();
      await mined(() => feed.write.updateAnswer([answer]));
    }
    if (btcPrice !== undefined) await setSpot(btcPrice);
  };
  await setSpot(spot);

  const now = Number((await publicClient.getBlock()).timestamp);
  const spec = {
    underlyingIndex: BTC_INDEX,
    expiry: expiryAfter(now, options.expiryDays ?? 7),
    isCall: true,
    strikeWad: BigInt(spot) * 10n ** 18n,
  };
  await mined(() => market.write.createSeries([spec]));
  const series = seriesId({ ...spec, expiry: BigInt(spec.expiry) });

  await mined(() => usdc.write.approve([vault.address, maxUint256], { account: traderWallet.account }));
  let orderNonce = 0n;
  const sellCall = async (taker: bigint, contractsWad: bigint) => {
    const markWad = await engine.read.mark([series]);
    const order: Order = {
      account: marketMaker,
      seriesId: series,
      size: contractsWad,
      priceWad: (markWad * 99n) / 100n,
      taker: asAccountId(taker),
      nonce: ++orderNonce,
      deadline: BigInt(now + 365 * DAY),
    };
    const signature = await makerWallet.signTypedData({
      domain: orderDomain(chainId, market.address),
      types: orderTypes,
      primaryType: "Order",
      message: order,
    });
    await mined(() => market.write.fill([order, signature, taker, contractsWad], { account: traderWallet.account }));
  };
  const traders: bigint[] = [];
  for (let i = 0; i < options.accounts; i++) {
    const account = accountId(traderWallet.account.address, BigInt(i + 1));
    const cashUsd = 10_000 + 1_000 * (i % 7);
    if (options.portfolio) {
      await mined(() => engine.write.setMarginMode([account, 2], { account: traderWallet.account }));
    }
    await mined(() => usdc.write.mint([traderWallet.account.address, parseUnits(String(cashUsd), 6)]));
    await mined(() =>
      vault.write.deposit([account, usdc.address, parseUnits(String(cashUsd), 6)], { account: traderWallet.account }),
    );
    // An at-the-money call needs 15 % of spot at IM; aim just under the deposit and back off if refused.
    let size = (cashUsd * (0.97 - 0.01 * (i % 5))) / (0.15 * spot);
    for (let attempt = 0; attempt < 6; attempt++, size *= 0.9) {
      try {
        await sellCall(account, toContractsWad(size));
        break;
      } catch (error) {
        if (!String(error).includes("EngineBelowInitialMargin")) throw error;
      }
    }
    traders.push(account);
  }
  return {
    connection,
    contracts,
    book,
    publicClient,
    testClient,
    keepers,
    marketMaker,
    traders,
    series,
    expiry: BigInt(spec.expiry),
    setSpot,
    refreshFeeds,
  };
}

export type World = Awaited<ReturnType<typeof createWorld>>;
