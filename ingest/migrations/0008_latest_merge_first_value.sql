-- A value re-sent for an instant already stored must not replace it in latest_readings either: readings keeps
-- the first value of a (device, metric, ts), so the latest value follows it. 0006's shortcut took the new row
-- whole when it started at (>=) the stored row's newest instant; it now needs a strictly newer row, and a
-- re-sent instant goes through the per-metric walk, which keeps the stored value on a tie.
CREATE OR REPLACE FUNCTION latest_merge(o latest_readings, n latest_readings) RETURNS latest_readings
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    merged latest_readings;
BEGIN
    IF n.oldest > o.newest AND latest_covers(n.ts, o.ts) THEN
        RETURN n;
    END IF;
    IF n.newest <= o.oldest AND latest_covers(o.ts, n.ts) THEN
        RETURN o;
    END IF;
    SELECT o.device_id, array_agg(t ORDER BY i), array_agg(v ORDER BY i), min(t), max(t)
    INTO merged
    FROM (SELECT i,
                 CASE WHEN n_t > o_t OR o_t IS NULL THEN n_t ELSE o_t END AS t,
                 CASE WHEN n_t > o_t OR o_t IS NULL THEN n_v ELSE o_v END AS v
          FROM unnest(o.ts, o.vals, n.ts, n.vals) WITH ORDINALITY AS u (o_t, o_v, n_t, n_v, i)) m;
    RETURN merged;
END
$$;
