import { Account, type MarginInputs, WAD, healthName } from "@pledge/sdk";
import { useState } from "react";

import { type PositionView, units, usd } from "./lib.js";

/**
 * The liquidation price of the account's main underlying (the one its positions are most
 * exposed to, by |delta × spot|) and a what-if: that underlying's spot and volatility moved by
 * the sliders, valued with the SDK's exact mirror (`Account.withPrice`, `liquidationPrice`).
 */
export function WhatIf({
  inputs,
  views,
  names,
}: {
  inputs: MarginInputs;
  views: PositionView[];
  names: Map<number, string>;
}) {
  const [spotPercent, setSpotPercent] = useState(0);
  const [volPercent, setVolPercent] = useState(0);
  const exposure = new Map<number, bigint>();
  for (const v of views) {
    const spot = inputs.underlyings.get(v.underlyingIndex)?.spotWad ?? 0n;
    const delta = v.greeks?.delta ?? 0n;
    exposure.set(v.underlyingIndex, (exposure.get(v.underlyingIndex) ?? 0n) + (delta < 0n ? -delta : delta) * spot);
  }
  const main = [...exposure.entries()].sort((a, b) => (a[1] === b[1] ? 0 : a[1] > b[1] ? -1 : 1))[0]?.[0];
  const underlying = main === undefined ? undefined : inputs.underlyings.get(main);
  if (main === undefined || underlying === undefined || underlying.spotWad === 0n) return null;
  const name = names.get(main) ?? `#${main}`;
  const trader = new Account(inputs);
  const up = trader.liquidationPrice(main, "up", underlying.spotWad * 10n, WAD);
  const down = trader.liquidationPrice(main, "down", underlying.spotWad / 100n, WAD);
  const spot = (underlying.spotWad * BigInt(100 + spotPercent)) / 100n;
  const vol = (underlying.volWad * BigInt(100 + volPercent)) / 100n;
  const after = trader.withPrice(main, spot, vol).margin();
  const signed = (n: number) => `${n > 0 ? "+" : n < 0 ? "\u2212" : "±"}${Math.abs(n)} %`;
  return (
    <div className="whatif">
      <p data-testid="liquidation-price">
        {name} liquidation price (the spot at which the account falls below maintenance): up{" "}
        {up === undefined ? "none within ×10" : usd(up)}, down {down === undefined ? "none above 1 %" : usd(down)}; now{" "}
        {usd(underlying.spotWad)}.
      </p>
      <div className="row">
        <label>
          {name} {signed(spotPercent)}{" "}
          <input
            type="range"
            min={-50}
            max={50}
            step={5}
            value={spotPercent}
            onChange={(e) => setSpotPercent(Number(e.target.value))}
            data-testid="whatif-spot"
          />
        </label>
        <label>
          vol {signed(volPercent)}{" "}
          <input
            type="range"
            min={-50}
            max={100}
            step={10}
            value={volPercent}
            onChange={(e) => setVolPercent(Number(e.target.value))}
            data-testid="whatif-vol"
          />
        </label>
      </div>
      <p data-testid="whatif">
        At {name} {usd(spot)} and vol {units(vol * 100n, 18, undefined, 1)} %:{" "}
        <strong>{healthName(after.health)}</strong>, excess over IM {usd(after.equityIM - after.requirementIM)}, over MM{" "}
        {usd(after.equityMM - after.requirementMM)}.
      </p>
    </div>
  );
}
