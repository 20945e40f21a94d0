SELECT
  "t1"."subscriber_id",
  COUNT(DISTINCT CAST(FLOOR(EPOCH(CAST("t1"."ts" AS TIMESTAMP)) / 86400) AS BIGINT)) FILTER(WHERE
    "t1"."event_type" = 'purchase') AS "holdout_purchases",
  COUNT("t1"."event_type") FILTER(WHERE
    "t1"."event_type" = 'purchase') AS "holdout_purchase_events",
  SUM("t1"."value") FILTER(WHERE
    (
      "t1"."event_type" = 'purchase'
    ) OR (
      "t1"."event_type" = 'refund'
    )) AS "holdout_revenue",
  COUNT("t1"."event_type") FILTER(WHERE
    (
      "t1"."event_type" = 'open'
    ) AND NOT (
      "t1"."machine_open"
    )) AS "holdout_opens",
  COUNT("t1"."event_type") FILTER(WHERE
    "t1"."event_type" = 'click') AS "holdout_clicks",
  COUNT("t1"."event_type") FILTER(WHERE
    "t1"."event_type" = 'unsubscribe') AS "unsubscribe_events",
  COUNT("t1"."event_type") FILTER(WHERE
    "t1"."event_type" IN ('click', 'purchase', 'web_visit', 'product_view', 'cart_add')
    OR (
      (
        "t1"."event_type" = 'open'
      ) AND NOT (
        "t1"."machine_open"
      )
    )) AS "active_events"
FROM (
  SELECT
    "t0"."subscriber_id",
    "t0"."event_type",
    "t0"."ts",
    "t0"."campaign_id",
    "t0"."value",
    COALESCE("t0"."machine_open", FALSE) AS "machine_open",
    CAST(NULL AS TEXT) AS "properties"
  FROM "events" AS "t0"
  WHERE
    "t0"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
    AND "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
) AS "t1"
GROUP BY
  1
