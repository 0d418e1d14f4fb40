"""Daily portfolio simulator over target weights with A-share and Hong Kong trading rules (numba).

Two entry points share one per-variant core (:func:`_simulate_variant_nb`):

- :func:`simulate_nb` — one variant, with trade records (fills *and* rejections with a reason) and positions;
- :func:`simulate_batch_nb` — many variants in one call, parallel over variants (``prange``), returning equity,
  cash, costs and traded value per session plus fill/rejection counts (no per-trade records, to keep memory flat).

The pandas wrapper that builds every input from a :class:`engine.data.panel.Panel` and a config lives in
:mod:`engine.backtest.simulate`; its reference (frictionless, fractional, close execution) is vectorbt
``Portfolio.from_orders(size_type="targetpercent", cash_sharing=True, call_seq="auto")``.

Algorithm, per variant and session ``i``:

0. Corporate actions dated ``i`` (ex-dates) change the shares held and credit cash dividends.
1. The order row is ``weights[i]`` (execution at the close of ``i``) or ``weights[i-1]`` (execution at the open of
   ``i``, the default: weights decided after the close of ``i-1``). ``NaN`` weight = no order for that asset.
2. Portfolio value at the fill = cash + Σ shares × traded valuation price × FX, the valuation price being the fill
   price (open or close of ``i``) or, where it is NaN, the last known traded close.
3. Sells first, in asset order (they release cash), then buys in asset order, each checked in turn for: index
   column, missing price, suspension, traded price known (when derived prices are off), price limit, T+1, lots and
   minimum quantity, cash after costs.
4. Stop-loss (``STOP_LOSS`` > 0): a position whose low reaches its average entry price × (1 - stop) is sold
   during the session at the stop price (or at the open when it gapped below); T+1 and the down-limit can block it,
   in which case it is sold at the next fill. A stopped asset is not bought again until its weight returns to 0.
   With close execution, stops are checked after the close fills, on positions not bought that session.
5. After the session: value every position at the last known traded close, record equity and cash.

Positions are held in *traded shares* (whole shares with lots on): the wrapper turns adjusted prices into traded ones
with a per-session scale (``raw_close / close``, or the nearest known factor, with the trade's ``basis`` saying which),
and the share count changes only by a trade or a corporate action (split / bonus shares multiply it, a cash dividend
is credited to cash) on its ex-date, detected by the wrapper from a step in the adjustment factor
(:mod:`engine.backtest.actions`). Equity = cash + Σ shares × last known traded close × FX.
Lot rounding, minimum quantities, the price-limit test and the recorded fill price use traded shares and prices
(A-share fill prices on a known or derived traded basis are rounded to the 0.01 CNY tick).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.enums import BoardCode, FeeCol, FillReason, PriceBasis, Side, SimParam, trade_dt

__all__ = ["simulate_nb", "simulate_batch_nb", "order_fees_nb", "limit_pct_nb"]


@njit(cache=True)
def limit_pct_nb(board: int, session: int, is_st: bool, fee_table: np.ndarray) -> float:
    """Daily price limit as a fraction of the previous close for ``board`` on ``session`` (NaN = no limit).

    Main board 0.10 (ST: ``fee_table[session, LIMIT_ST_MAIN]``), ChiNext ``fee_table[session, LIMIT_CHINEXT]``
    (0.10 before 2020-08-24, 0.20 from it), STAR 0.20, Beijing 0.30; Hong Kong and indexes: NaN.

    Shapes / NaN / Units
    --------------------
    ``board``: a :class:`engine.enums.BoardCodeT` int; ``session``: row of ``fee_table`` ``(n_sessions,
    N_FEE_COLS)``. Returns a fraction (0.1 = ±10 %) or NaN. Reference: the dated table in
    :mod:`engine.backtest.rules` and ``tests/kernels/test_simulate_rules.py``.
    """
    if board == BoardCode.MAIN:
        if is_st:
            return fee_table[session, FeeCol.LIMIT_ST_MAIN]
        return 0.10
    if board == BoardCode.CHINEXT:
        return fee_table[session, FeeCol.LIMIT_CHINEXT]
    if board == BoardCode.STAR:
        return 0.20
    if board == BoardCode.BSE:
        return 0.30
    return np.nan


@njit(cache=True)
def order_fees_nb(board: int, side: int, value_local: float, session: int, fee_table: np.ndarray,
                  commission_rate: float, commission_min: float) -> float:
    """All costs of one order, in the asset's currency.

    Shapes / NaN / Units
    --------------------
    ``value_local``: traded value (shares × traded price) in the asset's currency, > 0. ``fee_table``:
    ``(n_sessions, N_FEE_COLS)`` rates as fractions (see :class:`engine.enums.FeeColT`). Commission =
    max(rate × value, min). A-shares add stamp duty on sells, transfer and handling fees; Hong Kong adds stamp duty on
    both sides rounded *up* to a whole HKD, trading fee, SFC and AFRC levies and the settlement fee.
    Reference: the hand-worked cases in ``tests/kernels/test_simulate_rules.py``.
    """
    if value_local <= 0.0:
        return 0.0
    fee = max(commission_rate * value_local, commission_min)
    if board == BoardCode.HK:
        stamp = fee_table[session, FeeCol.HK_STAMP] * value_local
        if stamp > 0.0:
            # ceil with a guard against float noise (0.1% of 10,000.00 must be 10, not 11)
            stamp = math.ceil(stamp - 1e-9)
        fee += stamp
        fee += value_local * (fee_table[session, FeeCol.HK_TRADING] + fee_table[session, FeeCol.HK_SFC]
                              + fee_table[session, FeeCol.HK_AFRC] + fee_table[session, FeeCol.HK_SETTLE])
    elif board != BoardCode.INDEX:
        if side == Side.SELL:
            fee += fee_table[session, FeeCol.A_STAMP_SELL] * value_local
        fee += value_local * (fee_table[session, FeeCol.A_TRANSFER] + fee_table[session, FeeCol.A_HANDLING])
    return fee


@njit(cache=True)
def _round_cent_nb(x: float) -> float:
    return math.floor(x * 100.0 + 0.5) / 100.0


@njit(cache=True)
def _at_limit_nb(side: int, board: int, session: int, is_st: bool, fill_price: float, ref_price: float,
                 fee_table: np.ndarray, on_cents: bool) -> bool:
    """True when a buy (sell) would fill at the up- (down-) limit.

    ``on_cents`` (traded basis): the limit price is the reference × (1 ± limit) rounded to the cent, and a fill
    within half a cent of it is at the limit. Otherwise (adjusted basis, no traded price known) the move itself is
    compared with the limit, without a cent tolerance (the trade's ``price_basis`` says so).
    """
    pct = limit_pct_nb(board, session, is_st, fee_table)
    if np.isnan(pct) or np.isnan(ref_price) or np.isnan(fill_price):
        return False
    if on_cents:
        if side == Side.BUY:
            return fill_price >= _round_cent_nb(ref_price * (1.0 + pct)) - 0.005
        return fill_price <= _round_cent_nb(ref_price * (1.0 - pct)) + 0.005
    if side == Side.BUY:
        return fill_price >= ref_price * (1.0 + pct) * (1.0 - 1e-12)
    return fill_price <= ref_price * (1.0 - pct) * (1.0 + 1e-12)


@njit(cache=True)
def _prev_close_nb(close, i, j):
    """Last finite close of asset ``j`` before session ``i`` (NaN if none)."""
    for k in range(i - 1, -1, -1):
        c = close[k, j]
        if not np.isnan(c):
            return c
    return np.nan


@njit(cache=True)
def _drop_held_nb(j, held_list, held_slot, n_held):
    """Remove asset ``j`` from the compact held list (swap with the last); returns the new count."""
    k = held_slot[j]
    last = held_list[n_held - 1]
    held_list[k] = last
    held_slot[last] = k
    held_slot[j] = -1
    return n_held - 1


@njit(cache=True)
def _book_sell_nb(j, sell_shares, held, shares, entry_price, pending_exit, held_list, held_slot, n_held, n_pending):
    """Book a filled sell of ``sell_shares`` out of ``held`` for asset ``j``: a full exit clears the position, its
    entry price and any pending exit and leaves the held list; returns ``(n_held, n_pending)``."""
    if sell_shares >= held:
        shares[j] = 0.0
        entry_price[j] = np.nan
        if pending_exit[j]:
            pending_exit[j] = False
            n_pending -= 1
        n_held = _drop_held_nb(j, held_list, held_slot, n_held)
    else:
        shares[j] = held - sell_shares
    return n_held, n_pending


@njit(cache=True)
def _push_record_nb(records, n_rec, variant, session, asset, side, shares, price, value, fees, requested, reason,
                    basis):
    if n_rec >= len(records):
        grown = np.empty(max(16, len(records) + len(records) // 2), dtype=records.dtype)
        grown[:n_rec] = records[:n_rec]
        records = grown
    r = records[n_rec]
    r["variant"] = variant
    r["session"] = session
    r["asset"] = asset
    r["side"] = side
    r["shares"] = shares
    r["price"] = price
    r["value"] = value
    r["fees"] = fees
    r["requested"] = requested
    r["reason"] = reason
    r["basis"] = basis
    return records, n_rec + 1


@njit(cache=True)
def _simulate_variant_nb(variant, weights, row_active, params, open_, low, close, scale_arr, basis_arr, tradable, st,
                         board, lot_step, min_buy, listing_idx, fx_col, fx, fee_table, ev_ptr, ev_asset, ev_data,
                         equity_out, cash_out, fees_out, traded_out, positions_out, record, records):
    """Run one variant; fill row ``variant`` of the outputs. Returns ``(records, n_records, n_fills, n_rejects)``."""
    n_sessions, n_assets = close.shape
    ws = int(params[variant, SimParam.WEIGHT_SET])
    cash = params[variant, SimParam.INIT_CASH]
    comm_rate = params[variant, SimParam.COMMISSION_RATE]
    comm_min = params[variant, SimParam.COMMISSION_MIN]
    costs_on = params[variant, SimParam.COSTS_ON] > 0.5
    at_open = params[variant, SimParam.EXEC_AT_OPEN] > 0.5
    t1_on = params[variant, SimParam.T_PLUS_ONE_ON] > 0.5
    lots_on = params[variant, SimParam.LOTS_ON] > 0.5
    limits_on = params[variant, SimParam.LIMITS_ON] > 0.5
    susp_on = params[variant, SimParam.SUSPENSIONS_ON] > 0.5
    stop = params[variant, SimParam.STOP_LOSS]
    stops_on = stop > 0.0
    retry_on = params[variant, SimParam.RETRY_ON] > 0.5
    derived_on = params[variant, SimParam.DERIVED_ON] > 0.5
    has_st = st.shape[0] == n_sessions and st.shape[1] == n_assets
    has_scale = scale_arr.shape[0] == n_sessions and scale_arr.shape[1] == n_assets
    has_basis = has_scale and basis_arr.shape[0] == n_sessions and basis_arr.shape[1] == n_assets
    has_low = low.shape[0] == n_sessions and low.shape[1] == n_assets
    has_events = ev_ptr.shape[0] == n_sessions + 1
    keep_positions = positions_out.shape[0] == n_sessions and positions_out.shape[1] == n_assets

    shares = np.zeros(n_assets)          # traded shares held
    bought_today = np.zeros(n_assets)    # shares bought this session (T+1)
    last_close = np.full(n_assets, np.nan)  # last known traded close of each *held* asset (valuation)
    held_list = np.empty(n_assets, dtype=np.int64)  # compact list of held assets
    held_slot = np.full(n_assets, -1, dtype=np.int64)
    n_held = 0
    n_standing = 0
    n_pending = 0
    val_price = np.empty(n_assets)       # traded valuation price at the fill
    fill_price = np.empty(n_assets)      # adjusted fill price (NaN = no bar)
    entry_price = np.full(n_assets, np.nan)  # average traded entry price, adjusted at corporate actions (stop-loss)
    pending_exit = np.zeros(n_assets, dtype=np.bool_)  # stop hit but not (fully) sold yet: sell at the next fill
    stopped = np.zeros(n_assets, dtype=np.bool_)       # no re-entry after a stop until the weight returns to 0
    standing = np.full(n_assets, np.nan)  # target of an order rejected by a passing condition, retried next session
    eff_w = np.full(n_assets, np.nan)
    standing_prev = np.full(n_assets, np.nan)  # the standing order carried into this session (NaN = none)
    standing_reason = np.full(n_assets, -1, dtype=np.int64)
    sold_at = np.full(n_assets, -1, dtype=np.int64)   # session of the last sell (no buy back the same session)
    order_idx = np.empty(n_assets, dtype=np.int64)
    order_val = np.empty(n_assets)
    n_rec = 0
    n_fills = 0
    n_rejects = 0

    for i in range(n_sessions):
        fees_today = 0.0
        traded_today = 0.0
        wrow = i - 1 if at_open else i
        for k in range(n_held):
            bought_today[held_list[k]] = 0.0
        # 0. corporate actions on their ex-date, before the session's fills (see engine.backtest.actions)
        if has_events:
            for e in range(ev_ptr[i], ev_ptr[i + 1]):
                j = ev_asset[e]
                held = shares[j]
                if held <= 0.0:
                    continue
                ratio = ev_data[e, 0]
                rate = fx[i, fx_col[j]]
                after = held * ratio
                if lots_on:
                    after = math.floor(after + 1e-9)
                    # fractional shares of a bonus issue or consolidation: paid in cash at the ex-reference price
                    cash += (held * ratio - after) * ev_data[e, 2] * rate
                cash += held * ev_data[e, 1] * rate  # cash dividend per pre-action share
                if after <= 0.0:
                    n_held, n_pending = _book_sell_nb(j, held, held, shares, entry_price, pending_exit, held_list,
                                                      held_slot, n_held, n_pending)
                    continue
                shares[j] = after
                last_close[j] = ev_data[e, 2]
                if not np.isnan(entry_price[j]):
                    entry_price[j] /= ev_data[e, 3]
        if wrow >= 0 and (row_active[ws, wrow] or n_standing > 0 or n_pending > 0):
            # 1-2. prices at the fill and portfolio value; this session's orders (new weight, else a standing one)
            value = cash
            n_standing = 0
            for j in range(n_assets):
                wj = weights[ws, wrow, j]
                eff_w[j] = wj if not np.isnan(wj) else standing[j]
                standing_prev[j] = standing[j] if np.isnan(wj) else np.nan
                standing[j] = np.nan
                p = open_[i, j] if at_open else close[i, j]
                fill_price[j] = p
                if has_scale:
                    p = p * scale_arr[i, j]
                if np.isnan(p) and shares[j] != 0.0:
                    p = last_close[j]  # held but no price now: value at the last close (unheld: NaN, no order)
                val_price[j] = p
                if shares[j] != 0.0:
                    value += shares[j] * p * fx[i, fx_col[j]]
            # 3. sells (pass 0) then buys (pass 1)
            for pass_no in range(2):
                pass_side = Side.SELL if pass_no == 0 else Side.BUY
                n_iter = n_assets
                if pass_no == 1:
                    # buy candidates; when their total exceeds the cash, smallest orders go first (as vectorbt's
                    # call_seq="auto"), otherwise asset order (the order then does not matter)
                    n_iter = 0
                    need = 0.0
                    for j in range(n_assets):
                        w = eff_w[j]
                        if np.isnan(w) or stopped[j] or pending_exit[j] or sold_at[j] == i:
                            continue
                        vp = val_price[j]
                        if np.isnan(vp):
                            if w != 0.0:
                                order_idx[n_iter] = j
                                order_val[n_iter] = 0.0
                                n_iter += 1
                            continue
                        rate = fx[i, fx_col[j]]
                        ov = w * value - shares[j] * vp * rate
                        if ov > 0.0:
                            order_idx[n_iter] = j
                            order_val[n_iter] = ov
                            n_iter += 1
                            need += ov
                    if need > cash and n_iter > 1:
                        perm = np.argsort(order_val[:n_iter], kind="mergesort")
                        order_idx[:n_iter] = order_idx[:n_iter][perm]
                for k in range(n_iter):
                    j = k if pass_no == 0 else order_idx[k]
                    w = eff_w[j]
                    if pending_exit[j]:
                        w = 0.0
                    if np.isnan(w):
                        continue
                    if stopped[j]:
                        if w == 0.0 and shares[j] == 0.0:
                            stopped[j] = False
                        if shares[j] == 0.0:
                            continue
                    vp = val_price[j]
                    basis = int(basis_arr[i, j]) if has_basis else PriceBasis.ADJUSTED
                    if np.isnan(vp):
                        if w != 0.0 and pass_side == Side.BUY:
                            repeat = not np.isnan(standing_prev[j]) and standing_reason[j] == FillReason.NO_PRICE
                            if retry_on:
                                standing[j] = w
                                standing_reason[j] = FillReason.NO_PRICE
                                n_standing += 1
                            if not repeat:
                                n_rejects += 1
                                if record:
                                    records, n_rec = _push_record_nb(records, n_rec, variant, i, j, Side.BUY, 0.0,
                                                                     np.nan, 0.0, 0.0, np.nan, FillReason.NO_PRICE,
                                                                     basis)
                        continue
                    rate = fx[i, fx_col[j]]
                    target = w * value / (vp * rate)
                    delta = target - shares[j]
                    if delta == 0.0 or np.isnan(delta):
                        continue
                    side = Side.BUY if delta > 0.0 else Side.SELL
                    if side != pass_side:
                        continue
                    b = board[j]
                    is_a = b <= BoardCode.BSE
                    p = fill_price[j]
                    scale = scale_arr[i, j] if has_scale else 1.0
                    step = lot_step[j] if lots_on else 0.0
                    req_shares = abs(delta)
                    reason = -1
                    if b == BoardCode.INDEX:
                        reason = FillReason.NOT_TRADABLE
                    elif np.isnan(p):
                        reason = FillReason.NO_PRICE
                    elif susp_on and not tradable[i, j]:
                        reason = FillReason.SUSPENDED
                    elif not derived_on and basis != PriceBasis.TRADED:
                        reason = FillReason.NO_TRADED_PRICE
                    elif limits_on and is_a and not (listing_idx[j] >= 0 and i - listing_idx[j] < 5):
                        is_st = has_st and st[i, j]
                        # reference: the previous adjusted close on today's traded basis (= the ex-reference
                        # price on an ex-date)
                        if _at_limit_nb(side, b, i, is_st, p * scale, _prev_close_nb(close, i, j) * scale,
                                        fee_table, basis != PriceBasis.ADJUSTED):
                            reason = FillReason.LIMIT_UP if side == Side.BUY else FillReason.LIMIT_DOWN
                    if reason >= 0:
                        # a drift-sized order below one lot is not an order: reject silently
                        if step > 0.0 and req_shares < step and shares[j] != 0.0 and w != 0.0:
                            continue
                        repeat = not np.isnan(standing_prev[j]) and standing_reason[j] == reason
                        if retry_on and reason != FillReason.NOT_TRADABLE:
                            standing[j] = w
                            standing_reason[j] = reason
                            n_standing += 1
                        if repeat:
                            continue  # the same standing order rejected again for the same reason: one record
                        n_rejects += 1
                        if record:
                            records, n_rec = _push_record_nb(records, n_rec, variant, i, j, side, 0.0,
                                                             p * scale, 0.0, 0.0, req_shares, reason, basis)
                        continue
                    px_traded = p * scale
                    if is_a and basis != PriceBasis.ADJUSTED:
                        px_traded = _round_cent_nb(px_traded)  # A-share prices trade on a 0.01 CNY tick
                    if side == Side.SELL:
                        held = shares[j]
                        sellable = held - bought_today[j] if (t1_on and is_a) else held
                        if sellable <= 0.0:
                            repeat = not np.isnan(standing_prev[j]) and standing_reason[j] == FillReason.T_PLUS_ONE
                            if retry_on:
                                standing[j] = w
                                standing_reason[j] = FillReason.T_PLUS_ONE
                                n_standing += 1
                            if repeat:
                                continue
                            n_rejects += 1
                            if record:
                                records, n_rec = _push_record_nb(records, n_rec, variant, i, j, side, 0.0,
                                                                 px_traded, 0.0, 0.0, req_shares,
                                                                 FillReason.T_PLUS_ONE, basis)
                            continue
                        full_exit = w == 0.0 or -delta >= held
                        reason = FillReason.FILLED
                        if full_exit:
                            sell_shares = sellable
                            if sellable < held:
                                reason = FillReason.PARTIAL_T_PLUS_ONE
                        else:
                            sell_shares = -delta
                            if sell_shares > sellable:
                                sell_shares = sellable
                                reason = FillReason.PARTIAL_T_PLUS_ONE
                            if step > 0.0:
                                sell_shares = min(math.floor(sell_shares / step + 1e-9) * step, sellable)
                                if sell_shares <= 0.0:
                                    continue
                        value_local = sell_shares * px_traded
                        fee = order_fees_nb(b, side, value_local, i, fee_table, comm_rate, comm_min) \
                            if costs_on else 0.0
                        cash += (value_local - fee) * rate
                        sold_at[j] = i
                        n_held, n_pending = _book_sell_nb(j, sell_shares, held, shares, entry_price, pending_exit,
                                                          held_list, held_slot, n_held, n_pending)
                        fees_today += fee * rate
                        traded_today += value_local * rate
                        n_fills += 1
                        if reason != FillReason.FILLED:
                            n_rejects += 1
                            if retry_on and reason == FillReason.PARTIAL_T_PLUS_ONE:
                                standing[j] = w
                                n_standing += 1
                        if record:
                            records, n_rec = _push_record_nb(records, n_rec, variant, i, j, side, sell_shares,
                                                             px_traded, value_local * rate, fee * rate,
                                                             req_shares, reason, basis)
                    else:
                        # buy: quantity in traded shares
                        mb = min_buy[j] if lots_on else 0.0
                        if step > 0.0:
                            qty = math.floor(req_shares / step + 1e-9) * step
                        else:
                            qty = req_shares
                        if qty <= 0.0 or qty < mb:
                            if shares[j] == 0.0:
                                n_rejects += 1
                                if record:
                                    records, n_rec = _push_record_nb(records, n_rec, variant, i, j, side, 0.0,
                                                                     px_traded, 0.0, 0.0, req_shares,
                                                                     FillReason.BELOW_MIN_LOT, basis)
                            continue
                        reason = FillReason.FILLED
                        value_local = qty * px_traded
                        fee = order_fees_nb(b, side, value_local, i, fee_table, comm_rate, comm_min) \
                            if costs_on else 0.0
                        if (value_local + fee) * rate > cash:
                            # cut to the cash available after costs
                            avail_local = max(cash, 0.0) / rate
                            var_rate = 0.0
                            if costs_on:
                                var_rate = order_fees_nb(b, side, 1e9, i, fee_table, comm_rate, 0.0) / 1e9
                            qty = avail_local / (px_traded * (1.0 + var_rate))
                            if step > 0.0:
                                qty = math.floor(qty / step + 1e-9) * step
                            for _ in range(64):
                                if qty <= 0.0:
                                    break
                                value_local = qty * px_traded
                                fee = order_fees_nb(b, side, value_local, i, fee_table, comm_rate, comm_min) \
                                    if costs_on else 0.0
                                if value_local + fee <= avail_local:
                                    break
                                if step > 0.0:
                                    qty -= step
                                else:
                                    # fractional: remove the non-proportional part (minimum commission, stamp
                                    # rounding), then shave a hair off for float noise
                                    fixed_part = fee - var_rate * value_local
                                    qty = (avail_local - fixed_part) / (px_traded * (1.0 + var_rate))
                                    qty *= 1.0 - 1e-12 * (_ + 1)
                            if qty <= 0.0 or qty < mb:
                                n_rejects += 1
                                if record:
                                    records, n_rec = _push_record_nb(records, n_rec, variant, i, j, side, 0.0,
                                                                     px_traded, 0.0, 0.0, req_shares,
                                                                     FillReason.NO_CASH, basis)
                                continue
                            value_local = qty * px_traded
                            fee = order_fees_nb(b, side, value_local, i, fee_table, comm_rate, comm_min) \
                                if costs_on else 0.0
                            if qty < req_shares * (1.0 - 1e-9) and (step <= 0.0 or qty + step <= req_shares):
                                reason = FillReason.PARTIAL_CASH
                        cash -= (value_local + fee) * rate
                        if shares[j] > 0.0 and not np.isnan(entry_price[j]):
                            entry_price[j] = (entry_price[j] * shares[j] + px_traded * qty) / (shares[j] + qty)
                        else:
                            entry_price[j] = px_traded
                        if shares[j] == 0.0:
                            bought_today[j] = 0.0
                            held_list[n_held] = j
                            held_slot[j] = n_held
                            n_held += 1
                            last_close[j] = val_price[j]
                        shares[j] += qty
                        bought_today[j] += qty
                        fees_today += fee * rate
                        traded_today += value_local * rate
                        n_fills += 1
                        if reason != FillReason.FILLED:
                            n_rejects += 1
                        if record:
                            records, n_rec = _push_record_nb(records, n_rec, variant, i, j, side, qty,
                                                             px_traded, value_local * rate, fee * rate,
                                                             req_shares, reason, basis)
        # 3b. stop-loss during the session: positions whose low reached entry × (1 - stop)
        if stops_on:
            for k in range(n_held - 1, -1, -1):
                j = held_list[k]
                held = shares[j]
                if held <= 0.0 or pending_exit[j] or np.isnan(entry_price[j]):
                    continue
                if not at_open and bought_today[j] > 0.0:
                    continue  # bought at this close: the session's low came before the fill
                lo = low[i, j] if has_low else np.nan
                if np.isnan(lo) or (susp_on and not tradable[i, j]):
                    continue
                scale = scale_arr[i, j] if has_scale else 1.0
                stop_px = entry_price[j] * (1.0 - stop)   # traded basis
                if lo * scale > stop_px:
                    continue
                b = board[j]
                is_a = b <= BoardCode.BSE
                op = open_[i, j] * scale
                px = op if (not np.isnan(op) and op < stop_px) else stop_px
                basis = int(basis_arr[i, j]) if has_basis else PriceBasis.ADJUSTED
                if is_a and basis != PriceBasis.ADJUSTED:
                    px = _round_cent_nb(px)
                stopped[j] = True
                pending_exit[j] = True  # not pending before: such assets were skipped above
                n_pending += 1
                rate = fx[i, fx_col[j]]
                reason = FillReason.STOP_LOSS
                if not derived_on and basis != PriceBasis.TRADED:
                    reason = FillReason.NO_TRADED_PRICE
                elif limits_on and is_a and not (listing_idx[j] >= 0 and i - listing_idx[j] < 5):
                    is_st = has_st and st[i, j]
                    if _at_limit_nb(Side.SELL, b, i, is_st, px, _prev_close_nb(close, i, j) * scale,
                                    fee_table, basis != PriceBasis.ADJUSTED):
                        reason = FillReason.LIMIT_DOWN
                sellable = held - bought_today[j] if (t1_on and is_a) else held
                if sellable <= 0.0 and reason == FillReason.STOP_LOSS:
                    reason = FillReason.T_PLUS_ONE
                if reason != FillReason.STOP_LOSS:
                    n_rejects += 1
                    if record:
                        records, n_rec = _push_record_nb(records, n_rec, variant, i, j, Side.SELL, 0.0, px,
                                                         0.0, 0.0, held, reason, basis)
                    continue
                value_local = sellable * px
                fee = order_fees_nb(b, Side.SELL, value_local, i, fee_table, comm_rate, comm_min) \
                    if costs_on else 0.0
                cash += (value_local - fee) * rate
                n_held, n_pending = _book_sell_nb(j, sellable, held, shares, entry_price, pending_exit,
                                                  held_list, held_slot, n_held, n_pending)
                fees_today += fee * rate
                traded_today += value_local * rate
                n_fills += 1
                if record:
                    records, n_rec = _push_record_nb(records, n_rec, variant, i, j, Side.SELL, sellable,
                                                     px, value_local * rate, fee * rate, held,
                                                     FillReason.STOP_LOSS, basis)
        # 5. end of session: mark the held positions to their last known traded close
        equity = cash
        for k in range(n_held):
            j = held_list[k]
            c = close[i, j]
            if not np.isnan(c):
                last_close[j] = c * scale_arr[i, j] if has_scale else c
            equity += shares[j] * last_close[j] * fx[i, fx_col[j]]
            if keep_positions:
                positions_out[i, j] = shares[j]
        equity_out[variant, i] = equity
        cash_out[variant, i] = cash
        fees_out[variant, i] = fees_today
        traded_out[variant, i] = traded_today
    return records, n_rec, n_fills, n_rejects


@njit(cache=True)
def simulate_nb(weights, row_active, params, open_, low, close, scale_arr, basis_arr, tradable, st, board, lot_step,
                min_buy, listing_idx, fx_col, fx, fee_table, ev_ptr, ev_asset, ev_data, record_capacity):
    """Simulate one variant (``params`` row 0) with trade records and positions.

    Shapes / NaN / Units
    --------------------
    - ``weights``: ``(n_weight_sets, n_sessions, n_assets)`` float64 target weights as fractions of portfolio value
      decided after the close of each session; NaN = no order for that asset that session (hold); 0 = exit.
      ``row_active``: ``(n_weight_sets, n_sessions)`` bool, True where the row holds any non-NaN weight (rows
      without orders skip the order passes).
    - ``params``: ``(n_variants, N_SIM_PARAMS)`` float64, columns per :class:`engine.enums.SimParamT`
      (``INIT_CASH`` in the account currency). Only row 0 is run here.
    - ``open_``, ``low``, ``close``: ``(n_sessions, n_assets)`` *adjusted* prices, asset currency; NaN = no bar.
      ``low`` may be ``(0, 0)`` when no stop-loss is used.
    - ``scale_arr``: ``(n_sessions, n_assets)`` float64 traded ÷ adjusted price (``raw_close / close`` where the raw
      close is known, else from the nearest known factor, 1.0 for a stock without any raw price), or ``(0, 0)``
      when the panel has no raw price at all (traded = adjusted). ``basis_arr``: ``(n_sessions, n_assets)`` int8
      :class:`engine.enums.PriceBasisT` of that scale, or ``(0, 0)`` (all ``ADJUSTED``).
    - ``tradable``: ``(n_sessions, n_assets)`` bool, False = suspended. ``st``: ``(n_sessions, n_assets)`` bool ST
      flags or a ``(0, 0)`` array when none are known.
    - ``board``: ``(n_assets,)`` int64 :class:`engine.enums.BoardCodeT`. ``lot_step`` / ``min_buy``: ``(n_assets,)``
      float64 traded shares (main/ChiNext 100/100, STAR 1/200, HK board lot/board lot).
      ``listing_idx``: ``(n_assets,)`` int64 session index of listing (no price limit in its first 5 sessions) or -1.
    - ``fx_col``: ``(n_assets,)`` int64 column of ``fx`` converting the asset's currency to the account currency;
      ``fx``: ``(n_sessions, n_fx)`` float64 rates (column 0 all ones), no NaN.
    - ``fee_table``: ``(n_sessions, N_FEE_COLS)`` float64 dated rates (fractions), see :class:`engine.enums.FeeColT`.
    - Corporate actions, sorted by session: ``ev_ptr`` ``(n_sessions + 1,)`` int64 (events of session ``i`` are
      ``ev_ptr[i]:ev_ptr[i+1]``; a ``(0,)`` array = none), ``ev_asset`` ``(n_events,)`` int64, ``ev_data``
      ``(n_events, 4)`` float64: shares per pre-action share, cash dividend per pre-action share (asset currency),
      ex-reference price (traded basis), factor step (traded ÷ adjusted price before ÷ after). Applied at the start of
      their session to the shares held: whole shares when lots are on, the fraction paid in cash at the ex-reference
      price; the dividend credited in cash.

    Positions are whole traded shares (with lots on), constant between trades and corporate actions; equity = cash +
    Σ shares × last known traded close × FX. Returns ``(equity, cash, fees, traded, positions, records)``:
    ``(1, n_sessions)`` float64 account-currency equity at each close, cash, costs paid and traded value per session;
    ``positions`` ``(n_sessions, n_assets)`` traded shares held after each session; ``records``: ``trade_dt`` array of
    fills and rejections. Reference: vectorbt ``Portfolio.from_orders(size_type="targetpercent", cash_sharing=True,
    call_seq="auto")`` for the frictionless, fractional, close-execution case without raw prices
    (``tests/kernels/test_simulate_parity.py``); corporate actions: ``tests/kernels/test_simulate_shares.py``.
    """
    n_sessions, n_assets = close.shape
    equity = np.empty((1, n_sessions))
    cash = np.empty((1, n_sessions))
    fees = np.empty((1, n_sessions))
    traded = np.empty((1, n_sessions))
    positions = np.zeros((n_sessions, n_assets))
    records = np.empty(max(record_capacity, 16), dtype=trade_dt)
    records, n_rec, _, _ = _simulate_variant_nb(0, weights, row_active, params, open_, low, close, scale_arr,
                                                basis_arr, tradable, st, board, lot_step, min_buy, listing_idx,
                                                fx_col, fx, fee_table, ev_ptr, ev_asset, ev_data, equity, cash,
                                                fees, traded, positions, True, records)
    return equity, cash, fees, traded, positions, records[:n_rec]


@njit(cache=True, parallel=True)
def simulate_batch_nb(weights, row_active, params, open_, low, close, scale_arr, basis_arr, tradable, st, board,
                      lot_step, min_buy, listing_idx, fx_col, fx, fee_table, ev_ptr, ev_asset, ev_data):
    """Simulate every row of ``params`` (variants), in parallel over variants; no per-trade records.

    Shapes / NaN / Units: as :func:`simulate_nb`; each variant reads ``weights[params[v, WEIGHT_SET]]``.
    Returns ``(equity, cash, fees, traded, counts)``: ``(n_variants, n_sessions)`` float64 in the account currency,
    and ``counts`` ``(n_variants, 2)`` int64 = (orders filled, orders rejected or cut).
    Reference: :func:`simulate_nb` row by row (``tests/kernels/test_simulate_parity.py``).
    """
    n_sessions, n_assets = close.shape
    n_variants = params.shape[0]
    equity = np.empty((n_variants, n_sessions))
    cash = np.empty((n_variants, n_sessions))
    fees = np.empty((n_variants, n_sessions))
    traded = np.empty((n_variants, n_sessions))
    counts = np.zeros((n_variants, 2), dtype=np.int64)
    no_positions = np.empty((0, 0))
    for v in prange(n_variants):
        records = np.empty(0, dtype=trade_dt)
        _, _, n_fills, n_rejects = _simulate_variant_nb(v, weights, row_active, params, open_, low, close,
                                                        scale_arr, basis_arr, tradable, st, board, lot_step,
                                                        min_buy, listing_idx, fx_col, fx, fee_table, ev_ptr,
                                                        ev_asset, ev_data, equity, cash, fees, traded,
                                                        no_positions, False, records)
        counts[v, 0] = n_fills
        counts[v, 1] = n_rejects
    return equity, cash, fees, traded, counts
