WITH "t24" AS (
  SELECT
    "t10"."subscriber_id",
    "t10"."bucket",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'send') AS "n_send",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'open') AS "n_open",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'click') AS "n_click",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'purchase') AS "n_purchase",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'web_visit') AS "n_web_visit",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'product_view') AS "n_product_view",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'cart_add') AS "n_cart_add",
    COUNT(*) FILTER(WHERE
      "t10"."event_type" = 'unsubscribe') AS "n_unsubscribe",
    COUNT(*) FILTER(WHERE
      (
        "t10"."event_type" = 'open'
      ) AND NOT (
        "t10"."machine_open"
      )) AS "n_human_open",
    COUNT(*) FILTER(WHERE
      (
        "t10"."event_type" = 'web_visit'
      )
      AND REGEXP_MATCHES("t10"."properties", '(?i)"(page|url|path)"\s*:\s*"[^"]*pricing')) AS "n_pricing_page_visit",
    SUM("t10"."value") FILTER(WHERE
      (
        "t10"."event_type" = 'purchase'
      ) OR (
        "t10"."event_type" = 'refund'
      )) AS "value_sum",
    COUNT("t10"."value") FILTER(WHERE
      "t10"."event_type" = 'purchase') AS "value_n",
    MAX("t10"."ts") FILTER(WHERE
      (
        "t10"."event_type" = 'open'
      ) AND NOT (
        "t10"."machine_open"
      )) AS "last_open_ts",
    MAX("t10"."ts") FILTER(WHERE
      "t10"."event_type" = 'click') AS "last_click_ts",
    MAX("t10"."ts") FILTER(WHERE
      "t10"."event_type" = 'purchase') AS "last_purchase_ts",
    MIN("t10"."ts") AS "first_ts"
  FROM (
    SELECT
      "t2"."subscriber_id",
      "t2"."event_type",
      "t2"."ts",
      "t2"."campaign_id",
      "t2"."value",
      COALESCE("t2"."machine_open", FALSE) AS "machine_open",
      CAST(NULL AS TEXT) AS "properties",
      CASE
        WHEN "t2"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
        THEN 0
        WHEN "t2"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
        THEN 1
        WHEN "t2"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
        THEN 2
        ELSE 3
      END AS "bucket"
    FROM "events" AS "t2"
    WHERE
      "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
  ) AS "t10"
  GROUP BY
    1,
    2
), "t28" AS (
  SELECT
    "t22"."subscriber_id",
    COUNT("t22"."day") AS "n_days",
    MIN("t22"."day") AS "first_day",
    MAX("t22"."day") AS "last_day",
    SUM("t22"."day_value") AS "total_value",
    FIRST("t22"."day_value" ORDER BY "t22"."day") AS "first_value"
  FROM (
    SELECT
      "t14"."subscriber_id",
      "t14"."day",
      COALESCE(SUM("t14"."value"), 0.0) AS "day_value"
    FROM (
      SELECT
        "t2"."subscriber_id",
        "t2"."event_type",
        "t2"."ts",
        "t2"."campaign_id",
        "t2"."value",
        COALESCE("t2"."machine_open", FALSE) AS "machine_open",
        CAST(NULL AS TEXT) AS "properties",
        CAST(FLOOR(EPOCH(CAST("t2"."ts" AS TIMESTAMP)) / 86400) AS BIGINT) AS "day"
      FROM "events" AS "t2"
      WHERE
        "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
        AND "t2"."event_type" = 'purchase'
    ) AS "t14"
    GROUP BY
      1,
      2
  ) AS "t22"
  GROUP BY
    1
)
SELECT
  "t78"."subscriber_id",
  CAST(COALESCE("t78"."sends_30d", 0) AS BIGINT) AS "sends_30d",
  CAST(COALESCE("t78"."opens_30d", 0) AS BIGINT) AS "opens_30d",
  CAST(COALESCE("t78"."human_opens_30d", 0) AS BIGINT) AS "human_opens_30d",
  CAST(COALESCE("t78"."unique_opens_30d", 0) AS BIGINT) AS "unique_opens_30d",
  CAST(COALESCE("t78"."clicks_30d", 0) AS BIGINT) AS "clicks_30d",
  CAST(COALESCE("t78"."unique_clicks_30d", 0) AS BIGINT) AS "unique_clicks_30d",
  CASE
    WHEN CAST(COALESCE("t78"."sends_30d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_opens_30d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."sends_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "open_rate_30d",
  CASE
    WHEN CAST(COALESCE("t78"."sends_30d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_clicks_30d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."sends_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_rate_30d",
  CASE
    WHEN CAST(COALESCE("t78"."unique_opens_30d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_clicks_30d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."unique_opens_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_to_open_rate_30d",
  CAST(COALESCE("t78"."purchase_count_30d", 0) AS BIGINT) AS "purchase_count_30d",
  COALESCE("t78"."revenue_30d", 0.0) AS "revenue_30d",
  CASE
    WHEN CAST(COALESCE("t78"."valued_30d", 0) AS BIGINT) > 0
    THEN COALESCE("t78"."revenue_30d", 0.0) / CAST(COALESCE("t78"."valued_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "average_order_value_30d",
  CAST(COALESCE("t78"."web_visits_30d", 0) AS BIGINT) AS "web_visits_30d",
  CAST(COALESCE("t78"."pricing_page_visits_30d", 0) AS BIGINT) AS "pricing_page_visits_30d",
  CAST(COALESCE("t78"."product_views_30d", 0) AS BIGINT) AS "product_views_30d",
  CAST(COALESCE("t78"."cart_adds_30d", 0) AS BIGINT) AS "cart_adds_30d",
  CAST(COALESCE("t78"."cart_abandonments_30d", 0) AS BIGINT) AS "cart_abandonments_30d",
  CAST(COALESCE("t78"."unsubscribes_30d", 0) AS BIGINT) AS "unsubscribes_30d",
  CAST(COALESCE("t78"."sends_90d", 0) AS BIGINT) AS "sends_90d",
  CAST(COALESCE("t78"."opens_90d", 0) AS BIGINT) AS "opens_90d",
  CAST(COALESCE("t78"."human_opens_90d", 0) AS BIGINT) AS "human_opens_90d",
  CAST(COALESCE("t78"."unique_opens_90d", 0) AS BIGINT) AS "unique_opens_90d",
  CAST(COALESCE("t78"."clicks_90d", 0) AS BIGINT) AS "clicks_90d",
  CAST(COALESCE("t78"."unique_clicks_90d", 0) AS BIGINT) AS "unique_clicks_90d",
  CASE
    WHEN CAST(COALESCE("t78"."sends_90d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_opens_90d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."sends_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "open_rate_90d",
  CASE
    WHEN CAST(COALESCE("t78"."sends_90d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_clicks_90d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."sends_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_rate_90d",
  CASE
    WHEN CAST(COALESCE("t78"."unique_opens_90d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_clicks_90d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."unique_opens_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_to_open_rate_90d",
  CAST(COALESCE("t78"."purchase_count_90d", 0) AS BIGINT) AS "purchase_count_90d",
  COALESCE("t78"."revenue_90d", 0.0) AS "revenue_90d",
  CASE
    WHEN CAST(COALESCE("t78"."valued_90d", 0) AS BIGINT) > 0
    THEN COALESCE("t78"."revenue_90d", 0.0) / CAST(COALESCE("t78"."valued_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "average_order_value_90d",
  CAST(COALESCE("t78"."web_visits_90d", 0) AS BIGINT) AS "web_visits_90d",
  CAST(COALESCE("t78"."pricing_page_visits_90d", 0) AS BIGINT) AS "pricing_page_visits_90d",
  CAST(COALESCE("t78"."product_views_90d", 0) AS BIGINT) AS "product_views_90d",
  CAST(COALESCE("t78"."cart_adds_90d", 0) AS BIGINT) AS "cart_adds_90d",
  CAST(COALESCE("t78"."cart_abandonments_90d", 0) AS BIGINT) AS "cart_abandonments_90d",
  CAST(COALESCE("t78"."unsubscribes_90d", 0) AS BIGINT) AS "unsubscribes_90d",
  CAST(COALESCE("t78"."sends_365d", 0) AS BIGINT) AS "sends_365d",
  CAST(COALESCE("t78"."opens_365d", 0) AS BIGINT) AS "opens_365d",
  CAST(COALESCE("t78"."human_opens_365d", 0) AS BIGINT) AS "human_opens_365d",
  CAST(COALESCE("t78"."unique_opens_365d", 0) AS BIGINT) AS "unique_opens_365d",
  CAST(COALESCE("t78"."clicks_365d", 0) AS BIGINT) AS "clicks_365d",
  CAST(COALESCE("t78"."unique_clicks_365d", 0) AS BIGINT) AS "unique_clicks_365d",
  CASE
    WHEN CAST(COALESCE("t78"."sends_365d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_opens_365d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."sends_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "open_rate_365d",
  CASE
    WHEN CAST(COALESCE("t78"."sends_365d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_clicks_365d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."sends_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_rate_365d",
  CASE
    WHEN CAST(COALESCE("t78"."unique_opens_365d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t78"."unique_clicks_365d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t78"."unique_opens_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_to_open_rate_365d",
  CAST(COALESCE("t78"."purchase_count_365d", 0) AS BIGINT) AS "purchase_count_365d",
  COALESCE("t78"."revenue_365d", 0.0) AS "revenue_365d",
  CASE
    WHEN CAST(COALESCE("t78"."valued_365d", 0) AS BIGINT) > 0
    THEN COALESCE("t78"."revenue_365d", 0.0) / CAST(COALESCE("t78"."valued_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "average_order_value_365d",
  CAST(COALESCE("t78"."web_visits_365d", 0) AS BIGINT) AS "web_visits_365d",
  CAST(COALESCE("t78"."pricing_page_visits_365d", 0) AS BIGINT) AS "pricing_page_visits_365d",
  CAST(COALESCE("t78"."product_views_365d", 0) AS BIGINT) AS "product_views_365d",
  CAST(COALESCE("t78"."cart_adds_365d", 0) AS BIGINT) AS "cart_adds_365d",
  CAST(COALESCE("t78"."cart_abandonments_365d", 0) AS BIGINT) AS "cart_abandonments_365d",
  CAST(COALESCE("t78"."unsubscribes_365d", 0) AS BIGINT) AS "unsubscribes_365d",
  (
    1719705600.0 - (
      CAST(EPOCH(CAST(DATE_TRUNC('SECOND', "t78"."last_open_ts") AS TIMESTAMP)) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM "t78"."last_open_ts") % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "days_since_last_open",
  (
    1719705600.0 - (
      CAST(EPOCH(CAST(DATE_TRUNC('SECOND', "t78"."last_click_ts") AS TIMESTAMP)) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM "t78"."last_click_ts") % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "days_since_last_click",
  (
    1719705600.0 - (
      CAST(EPOCH(CAST(DATE_TRUNC('SECOND', "t78"."last_purchase_ts") AS TIMESTAMP)) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM "t78"."last_purchase_ts") % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "days_since_last_purchase",
  (
    1719705600.0 - (
      CAST(EPOCH(
        CAST(DATE_TRUNC('SECOND', LEAST("t78"."signup_at", "t78"."first_ts")) AS TIMESTAMP)
      ) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM LEAST("t78"."signup_at", "t78"."first_ts")) % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "tenure_days",
  "t78"."frequency",
  "t78"."recency",
  "t78"."T",
  "t78"."monetary_value",
  COALESCE("t78"."opens_hour_00", 0) AS "opens_hour_00",
  COALESCE("t78"."opens_hour_01", 0) AS "opens_hour_01",
  COALESCE("t78"."opens_hour_02", 0) AS "opens_hour_02",
  COALESCE("t78"."opens_hour_03", 0) AS "opens_hour_03",
  COALESCE("t78"."opens_hour_04", 0) AS "opens_hour_04",
  COALESCE("t78"."opens_hour_05", 0) AS "opens_hour_05",
  COALESCE("t78"."opens_hour_06", 0) AS "opens_hour_06",
  COALESCE("t78"."opens_hour_07", 0) AS "opens_hour_07",
  COALESCE("t78"."opens_hour_08", 0) AS "opens_hour_08",
  COALESCE("t78"."opens_hour_09", 0) AS "opens_hour_09",
  COALESCE("t78"."opens_hour_10", 0) AS "opens_hour_10",
  COALESCE("t78"."opens_hour_11", 0) AS "opens_hour_11",
  COALESCE("t78"."opens_hour_12", 0) AS "opens_hour_12",
  COALESCE("t78"."opens_hour_13", 0) AS "opens_hour_13",
  COALESCE("t78"."opens_hour_14", 0) AS "opens_hour_14",
  COALESCE("t78"."opens_hour_15", 0) AS "opens_hour_15",
  COALESCE("t78"."opens_hour_16", 0) AS "opens_hour_16",
  COALESCE("t78"."opens_hour_17", 0) AS "opens_hour_17",
  COALESCE("t78"."opens_hour_18", 0) AS "opens_hour_18",
  COALESCE("t78"."opens_hour_19", 0) AS "opens_hour_19",
  COALESCE("t78"."opens_hour_20", 0) AS "opens_hour_20",
  COALESCE("t78"."opens_hour_21", 0) AS "opens_hour_21",
  COALESCE("t78"."opens_hour_22", 0) AS "opens_hour_22",
  COALESCE("t78"."opens_hour_23", 0) AS "opens_hour_23",
  COALESCE("t78"."opens_weekday_0", 0) AS "opens_weekday_0",
  COALESCE("t78"."opens_weekday_1", 0) AS "opens_weekday_1",
  COALESCE("t78"."opens_weekday_2", 0) AS "opens_weekday_2",
  COALESCE("t78"."opens_weekday_3", 0) AS "opens_weekday_3",
  COALESCE("t78"."opens_weekday_4", 0) AS "opens_weekday_4",
  COALESCE("t78"."opens_weekday_5", 0) AS "opens_weekday_5",
  COALESCE("t78"."opens_weekday_6", 0) AS "opens_weekday_6",
  COALESCE("t78"."unsubscribed", FALSE) OR COALESCE("t78"."any_unsubscribe", FALSE) AS "unsubscribed",
  "t78"."consent",
  "t78"."timezone"
FROM (
  SELECT
    "t77".*
    EXCLUDE ("_key")
  FROM (
    SELECT
      "t76"."subscriber_id",
      "t76"."sends_30d",
      "t76"."opens_30d",
      "t76"."clicks_30d",
      "t76"."purchase_count_30d",
      "t76"."web_visits_30d",
      "t76"."product_views_30d",
      "t76"."cart_adds_30d",
      "t76"."unsubscribes_30d",
      "t76"."human_opens_30d",
      "t76"."pricing_page_visits_30d",
      "t76"."revenue_30d",
      "t76"."valued_30d",
      "t76"."sends_90d",
      "t76"."opens_90d",
      "t76"."clicks_90d",
      "t76"."purchase_count_90d",
      "t76"."web_visits_90d",
      "t76"."product_views_90d",
      "t76"."cart_adds_90d",
      "t76"."unsubscribes_90d",
      "t76"."human_opens_90d",
      "t76"."pricing_page_visits_90d",
      "t76"."revenue_90d",
      "t76"."valued_90d",
      "t76"."sends_365d",
      "t76"."opens_365d",
      "t76"."clicks_365d",
      "t76"."purchase_count_365d",
      "t76"."web_visits_365d",
      "t76"."product_views_365d",
      "t76"."cart_adds_365d",
      "t76"."unsubscribes_365d",
      "t76"."human_opens_365d",
      "t76"."pricing_page_visits_365d",
      "t76"."revenue_365d",
      "t76"."valued_365d",
      "t76"."last_open_ts",
      "t76"."last_click_ts",
      "t76"."last_purchase_ts",
      "t76"."first_ts",
      "t76"."any_unsubscribe",
      "t76"."unique_opens_30d",
      "t76"."unique_clicks_30d",
      "t76"."unique_opens_90d",
      "t76"."unique_clicks_90d",
      "t76"."unique_opens_365d",
      "t76"."unique_clicks_365d",
      "t76"."cart_abandonments_30d",
      "t76"."cart_abandonments_90d",
      "t76"."cart_abandonments_365d",
      "t76"."frequency",
      "t76"."recency",
      "t76"."T",
      "t76"."monetary_value",
      "t76"."opens_hour_00",
      "t76"."opens_hour_01",
      "t76"."opens_hour_02",
      "t76"."opens_hour_03",
      "t76"."opens_hour_04",
      "t76"."opens_hour_05",
      "t76"."opens_hour_06",
      "t76"."opens_hour_07",
      "t76"."opens_hour_08",
      "t76"."opens_hour_09",
      "t76"."opens_hour_10",
      "t76"."opens_hour_11",
      "t76"."opens_hour_12",
      "t76"."opens_hour_13",
      "t76"."opens_hour_14",
      "t76"."opens_hour_15",
      "t76"."opens_hour_16",
      "t76"."opens_hour_17",
      "t76"."opens_hour_18",
      "t76"."opens_hour_19",
      "t76"."opens_hour_20",
      "t76"."opens_hour_21",
      "t76"."opens_hour_22",
      "t76"."opens_hour_23",
      "t76"."opens_weekday_0",
      "t76"."opens_weekday_1",
      "t76"."opens_weekday_2",
      "t76"."opens_weekday_3",
      "t76"."opens_weekday_4",
      "t76"."opens_weekday_5",
      "t76"."opens_weekday_6",
      "t21"."_key",
      "t21"."timezone",
      "t21"."consent",
      "t21"."signup_at",
      "t21"."unsubscribed"
    FROM (
      SELECT
        "t74".*
        EXCLUDE ("_key")
      FROM (
        SELECT
          "t73"."subscriber_id",
          "t73"."sends_30d",
          "t73"."opens_30d",
          "t73"."clicks_30d",
          "t73"."purchase_count_30d",
          "t73"."web_visits_30d",
          "t73"."product_views_30d",
          "t73"."cart_adds_30d",
          "t73"."unsubscribes_30d",
          "t73"."human_opens_30d",
          "t73"."pricing_page_visits_30d",
          "t73"."revenue_30d",
          "t73"."valued_30d",
          "t73"."sends_90d",
          "t73"."opens_90d",
          "t73"."clicks_90d",
          "t73"."purchase_count_90d",
          "t73"."web_visits_90d",
          "t73"."product_views_90d",
          "t73"."cart_adds_90d",
          "t73"."unsubscribes_90d",
          "t73"."human_opens_90d",
          "t73"."pricing_page_visits_90d",
          "t73"."revenue_90d",
          "t73"."valued_90d",
          "t73"."sends_365d",
          "t73"."opens_365d",
          "t73"."clicks_365d",
          "t73"."purchase_count_365d",
          "t73"."web_visits_365d",
          "t73"."product_views_365d",
          "t73"."cart_adds_365d",
          "t73"."unsubscribes_365d",
          "t73"."human_opens_365d",
          "t73"."pricing_page_visits_365d",
          "t73"."revenue_365d",
          "t73"."valued_365d",
          "t73"."last_open_ts",
          "t73"."last_click_ts",
          "t73"."last_purchase_ts",
          "t73"."first_ts",
          "t73"."any_unsubscribe",
          "t73"."unique_opens_30d",
          "t73"."unique_clicks_30d",
          "t73"."unique_opens_90d",
          "t73"."unique_clicks_90d",
          "t73"."unique_opens_365d",
          "t73"."unique_clicks_365d",
          "t73"."cart_abandonments_30d",
          "t73"."cart_abandonments_90d",
          "t73"."cart_abandonments_365d",
          "t73"."frequency",
          "t73"."recency",
          "t73"."T",
          "t73"."monetary_value",
          "t64"."_key",
          "t64"."opens_hour_00",
          "t64"."opens_hour_01",
          "t64"."opens_hour_02",
          "t64"."opens_hour_03",
          "t64"."opens_hour_04",
          "t64"."opens_hour_05",
          "t64"."opens_hour_06",
          "t64"."opens_hour_07",
          "t64"."opens_hour_08",
          "t64"."opens_hour_09",
          "t64"."opens_hour_10",
          "t64"."opens_hour_11",
          "t64"."opens_hour_12",
          "t64"."opens_hour_13",
          "t64"."opens_hour_14",
          "t64"."opens_hour_15",
          "t64"."opens_hour_16",
          "t64"."opens_hour_17",
          "t64"."opens_hour_18",
          "t64"."opens_hour_19",
          "t64"."opens_hour_20",
          "t64"."opens_hour_21",
          "t64"."opens_hour_22",
          "t64"."opens_hour_23",
          "t64"."opens_weekday_0",
          "t64"."opens_weekday_1",
          "t64"."opens_weekday_2",
          "t64"."opens_weekday_3",
          "t64"."opens_weekday_4",
          "t64"."opens_weekday_5",
          "t64"."opens_weekday_6"
        FROM (
          SELECT
            "t71".*
            EXCLUDE ("_key")
          FROM (
            SELECT
              "t69"."subscriber_id",
              "t69"."sends_30d",
              "t69"."opens_30d",
              "t69"."clicks_30d",
              "t69"."purchase_count_30d",
              "t69"."web_visits_30d",
              "t69"."product_views_30d",
              "t69"."cart_adds_30d",
              "t69"."unsubscribes_30d",
              "t69"."human_opens_30d",
              "t69"."pricing_page_visits_30d",
              "t69"."revenue_30d",
              "t69"."valued_30d",
              "t69"."sends_90d",
              "t69"."opens_90d",
              "t69"."clicks_90d",
              "t69"."purchase_count_90d",
              "t69"."web_visits_90d",
              "t69"."product_views_90d",
              "t69"."cart_adds_90d",
              "t69"."unsubscribes_90d",
              "t69"."human_opens_90d",
              "t69"."pricing_page_visits_90d",
              "t69"."revenue_90d",
              "t69"."valued_90d",
              "t69"."sends_365d",
              "t69"."opens_365d",
              "t69"."clicks_365d",
              "t69"."purchase_count_365d",
              "t69"."web_visits_365d",
              "t69"."product_views_365d",
              "t69"."cart_adds_365d",
              "t69"."unsubscribes_365d",
              "t69"."human_opens_365d",
              "t69"."pricing_page_visits_365d",
              "t69"."revenue_365d",
              "t69"."valued_365d",
              "t69"."last_open_ts",
              "t69"."last_click_ts",
              "t69"."last_purchase_ts",
              "t69"."first_ts",
              "t69"."any_unsubscribe",
              "t69"."unique_opens_30d",
              "t69"."unique_clicks_30d",
              "t69"."unique_opens_90d",
              "t69"."unique_clicks_90d",
              "t69"."unique_opens_365d",
              "t69"."unique_clicks_365d",
              "t69"."cart_abandonments_30d",
              "t69"."cart_abandonments_90d",
              "t69"."cart_abandonments_365d",
              "t70"."_key",
              "t70"."frequency",
              "t70"."recency",
              "t70"."T",
              "t70"."monetary_value"
            FROM (
              SELECT
                "t66".*
                EXCLUDE ("_key")
              FROM (
                SELECT
                  "t62"."subscriber_id",
                  "t62"."sends_30d",
                  "t62"."opens_30d",
                  "t62"."clicks_30d",
                  "t62"."purchase_count_30d",
                  "t62"."web_visits_30d",
                  "t62"."product_views_30d",
                  "t62"."cart_adds_30d",
                  "t62"."unsubscribes_30d",
                  "t62"."human_opens_30d",
                  "t62"."pricing_page_visits_30d",
                  "t62"."revenue_30d",
                  "t62"."valued_30d",
                  "t62"."sends_90d",
                  "t62"."opens_90d",
                  "t62"."clicks_90d",
                  "t62"."purchase_count_90d",
                  "t62"."web_visits_90d",
                  "t62"."product_views_90d",
                  "t62"."cart_adds_90d",
                  "t62"."unsubscribes_90d",
                  "t62"."human_opens_90d",
                  "t62"."pricing_page_visits_90d",
                  "t62"."revenue_90d",
                  "t62"."valued_90d",
                  "t62"."sends_365d",
                  "t62"."opens_365d",
                  "t62"."clicks_365d",
                  "t62"."purchase_count_365d",
                  "t62"."web_visits_365d",
                  "t62"."product_views_365d",
                  "t62"."cart_adds_365d",
                  "t62"."unsubscribes_365d",
                  "t62"."human_opens_365d",
                  "t62"."pricing_page_visits_365d",
                  "t62"."revenue_365d",
                  "t62"."valued_365d",
                  "t62"."last_open_ts",
                  "t62"."last_click_ts",
                  "t62"."last_purchase_ts",
                  "t62"."first_ts",
                  "t62"."any_unsubscribe",
                  "t62"."unique_opens_30d",
                  "t62"."unique_clicks_30d",
                  "t62"."unique_opens_90d",
                  "t62"."unique_clicks_90d",
                  "t62"."unique_opens_365d",
                  "t62"."unique_clicks_365d",
                  "t50"."_key",
                  "t50"."cart_abandonments_30d",
                  "t50"."cart_abandonments_90d",
                  "t50"."cart_abandonments_365d"
                FROM (
                  SELECT
                    "t59".*
                    EXCLUDE ("_key")
                  FROM (
                    SELECT
                      "t53"."subscriber_id",
                      "t53"."sends_30d",
                      "t53"."opens_30d",
                      "t53"."clicks_30d",
                      "t53"."purchase_count_30d",
                      "t53"."web_visits_30d",
                      "t53"."product_views_30d",
                      "t53"."cart_adds_30d",
                      "t53"."unsubscribes_30d",
                      "t53"."human_opens_30d",
                      "t53"."pricing_page_visits_30d",
                      "t53"."revenue_30d",
                      "t53"."valued_30d",
                      "t53"."sends_90d",
                      "t53"."opens_90d",
                      "t53"."clicks_90d",
                      "t53"."purchase_count_90d",
                      "t53"."web_visits_90d",
                      "t53"."product_views_90d",
                      "t53"."cart_adds_90d",
                      "t53"."unsubscribes_90d",
                      "t53"."human_opens_90d",
                      "t53"."pricing_page_visits_90d",
                      "t53"."revenue_90d",
                      "t53"."valued_90d",
                      "t53"."sends_365d",
                      "t53"."opens_365d",
                      "t53"."clicks_365d",
                      "t53"."purchase_count_365d",
                      "t53"."web_visits_365d",
                      "t53"."product_views_365d",
                      "t53"."cart_adds_365d",
                      "t53"."unsubscribes_365d",
                      "t53"."human_opens_365d",
                      "t53"."pricing_page_visits_365d",
                      "t53"."revenue_365d",
                      "t53"."valued_365d",
                      "t53"."last_open_ts",
                      "t53"."last_click_ts",
                      "t53"."last_purchase_ts",
                      "t53"."first_ts",
                      "t53"."any_unsubscribe",
                      "t55"."_key",
                      "t55"."unique_opens_30d",
                      "t55"."unique_clicks_30d",
                      "t55"."unique_opens_90d",
                      "t55"."unique_clicks_90d",
                      "t55"."unique_opens_365d",
                      "t55"."unique_clicks_365d"
                    FROM (
                      SELECT
                        "t48".*
                        EXCLUDE ("_key")
                      FROM (
                        SELECT
                          "t35"."subscriber_id",
                          "t43"."_key",
                          "t43"."sends_30d",
                          "t43"."opens_30d",
                          "t43"."clicks_30d",
                          "t43"."purchase_count_30d",
                          "t43"."web_visits_30d",
                          "t43"."product_views_30d",
                          "t43"."cart_adds_30d",
                          "t43"."unsubscribes_30d",
                          "t43"."human_opens_30d",
                          "t43"."pricing_page_visits_30d",
                          "t43"."revenue_30d",
                          "t43"."valued_30d",
                          "t43"."sends_90d",
                          "t43"."opens_90d",
                          "t43"."clicks_90d",
                          "t43"."purchase_count_90d",
                          "t43"."web_visits_90d",
                          "t43"."product_views_90d",
                          "t43"."cart_adds_90d",
                          "t43"."unsubscribes_90d",
                          "t43"."human_opens_90d",
                          "t43"."pricing_page_visits_90d",
                          "t43"."revenue_90d",
                          "t43"."valued_90d",
                          "t43"."sends_365d",
                          "t43"."opens_365d",
                          "t43"."clicks_365d",
                          "t43"."purchase_count_365d",
                          "t43"."web_visits_365d",
                          "t43"."product_views_365d",
                          "t43"."cart_adds_365d",
                          "t43"."unsubscribes_365d",
                          "t43"."human_opens_365d",
                          "t43"."pricing_page_visits_365d",
                          "t43"."revenue_365d",
                          "t43"."valued_365d",
                          "t43"."last_open_ts",
                          "t43"."last_click_ts",
                          "t43"."last_purchase_ts",
                          "t43"."first_ts",
                          "t43"."any_unsubscribe"
                        FROM (
                          SELECT
                            *
                          FROM (
                            SELECT DISTINCT
                              "t27"."subscriber_id"
                            FROM "t24" AS "t27"
                          ) AS "t29"
                          UNION
                          SELECT
                            *
                          FROM (
                            SELECT
                              "t0"."subscriber_id"
                            FROM "subscribers" AS "t0"
                            WHERE
                              (
                                CAST("t0"."signup_at" AS TIMESTAMPTZ) IS NULL
                              )
                              OR (
                                CAST("t0"."signup_at" AS TIMESTAMPTZ) <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
                              )
                          ) AS "t12"
                        ) AS "t35"
                        LEFT OUTER JOIN (
                          SELECT
                            "t36"."subscriber_id" AS "_key",
                            "t36"."sends_30d",
                            "t36"."opens_30d",
                            "t36"."clicks_30d",
                            "t36"."purchase_count_30d",
                            "t36"."web_visits_30d",
                            "t36"."product_views_30d",
                            "t36"."cart_adds_30d",
                            "t36"."unsubscribes_30d",
                            "t36"."human_opens_30d",
                            "t36"."pricing_page_visits_30d",
                            "t36"."revenue_30d",
                            "t36"."valued_30d",
                            "t36"."sends_90d",
                            "t36"."opens_90d",
                            "t36"."clicks_90d",
                            "t36"."purchase_count_90d",
                            "t36"."web_visits_90d",
                            "t36"."product_views_90d",
                            "t36"."cart_adds_90d",
                            "t36"."unsubscribes_90d",
                            "t36"."human_opens_90d",
                            "t36"."pricing_page_visits_90d",
                            "t36"."revenue_90d",
                            "t36"."valued_90d",
                            "t36"."sends_365d",
                            "t36"."opens_365d",
                            "t36"."clicks_365d",
                            "t36"."purchase_count_365d",
                            "t36"."web_visits_365d",
                            "t36"."product_views_365d",
                            "t36"."cart_adds_365d",
                            "t36"."unsubscribes_365d",
                            "t36"."human_opens_365d",
                            "t36"."pricing_page_visits_365d",
                            "t36"."revenue_365d",
                            "t36"."valued_365d",
                            "t36"."last_open_ts",
                            "t36"."last_click_ts",
                            "t36"."last_purchase_ts",
                            "t36"."first_ts",
                            "t36"."any_unsubscribe"
                          FROM (
                            SELECT
                              "t27"."subscriber_id",
                              SUM(CAST("t27"."n_send" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "sends_30d",
                              SUM(CAST("t27"."n_open" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "opens_30d",
                              SUM(CAST("t27"."n_click" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "clicks_30d",
                              SUM(CAST("t27"."n_purchase" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "purchase_count_30d",
                              SUM(CAST("t27"."n_web_visit" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "web_visits_30d",
                              SUM(CAST("t27"."n_product_view" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "product_views_30d",
                              SUM(CAST("t27"."n_cart_add" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "cart_adds_30d",
                              SUM(CAST("t27"."n_unsubscribe" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "unsubscribes_30d",
                              SUM(CAST("t27"."n_human_open" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "human_opens_30d",
                              SUM(CAST("t27"."n_pricing_page_visit" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "pricing_page_visits_30d",
                              SUM("t27"."value_sum") FILTER(WHERE
                                "t27"."bucket" <= 0) AS "revenue_30d",
                              SUM(CAST("t27"."value_n" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 0) AS "valued_30d",
                              SUM(CAST("t27"."n_send" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "sends_90d",
                              SUM(CAST("t27"."n_open" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "opens_90d",
                              SUM(CAST("t27"."n_click" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "clicks_90d",
                              SUM(CAST("t27"."n_purchase" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "purchase_count_90d",
                              SUM(CAST("t27"."n_web_visit" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "web_visits_90d",
                              SUM(CAST("t27"."n_product_view" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "product_views_90d",
                              SUM(CAST("t27"."n_cart_add" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "cart_adds_90d",
                              SUM(CAST("t27"."n_unsubscribe" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "unsubscribes_90d",
                              SUM(CAST("t27"."n_human_open" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "human_opens_90d",
                              SUM(CAST("t27"."n_pricing_page_visit" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "pricing_page_visits_90d",
                              SUM("t27"."value_sum") FILTER(WHERE
                                "t27"."bucket" <= 1) AS "revenue_90d",
                              SUM(CAST("t27"."value_n" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 1) AS "valued_90d",
                              SUM(CAST("t27"."n_send" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "sends_365d",
                              SUM(CAST("t27"."n_open" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "opens_365d",
                              SUM(CAST("t27"."n_click" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "clicks_365d",
                              SUM(CAST("t27"."n_purchase" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "purchase_count_365d",
                              SUM(CAST("t27"."n_web_visit" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "web_visits_365d",
                              SUM(CAST("t27"."n_product_view" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "product_views_365d",
                              SUM(CAST("t27"."n_cart_add" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "cart_adds_365d",
                              SUM(CAST("t27"."n_unsubscribe" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "unsubscribes_365d",
                              SUM(CAST("t27"."n_human_open" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "human_opens_365d",
                              SUM(CAST("t27"."n_pricing_page_visit" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "pricing_page_visits_365d",
                              SUM("t27"."value_sum") FILTER(WHERE
                                "t27"."bucket" <= 2) AS "revenue_365d",
                              SUM(CAST("t27"."value_n" AS DOUBLE)) FILTER(WHERE
                                "t27"."bucket" <= 2) AS "valued_365d",
                              MAX("t27"."last_open_ts") AS "last_open_ts",
                              MAX("t27"."last_click_ts") AS "last_click_ts",
                              MAX("t27"."last_purchase_ts") AS "last_purchase_ts",
                              MIN("t27"."first_ts") AS "first_ts",
                              SUM("t27"."n_unsubscribe") > 0 AS "any_unsubscribe"
                            FROM "t24" AS "t27"
                            GROUP BY
                              1
                          ) AS "t36"
                        ) AS "t43"
                          ON "t35"."subscriber_id" = "t43"."_key"
                      ) AS "t48"
                    ) AS "t53"
                    LEFT OUTER JOIN (
                      SELECT
                        "t49"."subscriber_id" AS "_key",
                        "t49"."unique_opens_30d",
                        "t49"."unique_clicks_30d",
                        "t49"."unique_opens_90d",
                        "t49"."unique_clicks_90d",
                        "t49"."unique_opens_365d",
                        "t49"."unique_clicks_365d"
                      FROM (
                        SELECT
                          "t44"."subscriber_id",
                          SUM(CAST("t44"."opened" AS DOUBLE)) FILTER(WHERE
                            "t44"."bucket" <= 0) AS "unique_opens_30d",
                          SUM(CAST("t44"."clicked" AS DOUBLE)) FILTER(WHERE
                            "t44"."bucket" <= 0) AS "unique_clicks_30d",
                          SUM(CAST("t44"."opened" AS DOUBLE)) FILTER(WHERE
                            "t44"."bucket" <= 1) AS "unique_opens_90d",
                          SUM(CAST("t44"."clicked" AS DOUBLE)) FILTER(WHERE
                            "t44"."bucket" <= 1) AS "unique_clicks_90d",
                          SUM(CAST("t44"."opened" AS DOUBLE)) FILTER(WHERE
                            "t44"."bucket" <= 2) AS "unique_opens_365d",
                          SUM(CAST("t44"."clicked" AS DOUBLE)) FILTER(WHERE
                            "t44"."bucket" <= 2) AS "unique_clicks_365d"
                        FROM (
                          SELECT
                            "t33"."subscriber_id",
                            "t33"."bucket",
                            COUNT(*) FILTER(WHERE
                              "t33"."event_type" = 'open') AS "opened",
                            COUNT(*) FILTER(WHERE
                              "t33"."event_type" = 'click') AS "clicked"
                          FROM (
                            SELECT
                              "t26"."subscriber_id",
                              "t26"."campaign_id",
                              "t26"."event_type",
                              "t26"."last_ts",
                              CASE
                                WHEN "t26"."last_ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
                                THEN 0
                                WHEN "t26"."last_ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
                                THEN 1
                                WHEN "t26"."last_ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
                                THEN 2
                                ELSE 3
                              END AS "bucket"
                            FROM (
                              SELECT
                                "t19"."subscriber_id",
                                "t19"."campaign_id",
                                "t19"."event_type",
                                MAX("t19"."ts") AS "last_ts"
                              FROM (
                                SELECT
                                  "t2"."subscriber_id",
                                  "t2"."event_type",
                                  "t2"."ts",
                                  "t2"."campaign_id",
                                  "t2"."value",
                                  COALESCE("t2"."machine_open", FALSE) AS "machine_open",
                                  CAST(NULL AS TEXT) AS "properties"
                                FROM "events" AS "t2"
                                WHERE
                                  "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
                                  AND "t2"."campaign_id" IS NOT NULL
                                  AND (
                                    (
                                      (
                                        "t2"."event_type" = 'open'
                                      )
                                      AND NOT (
                                        COALESCE("t2"."machine_open", FALSE)
                                      )
                                    )
                                    OR (
                                      "t2"."event_type" = 'click'
                                    )
                                  )
                              ) AS "t19"
                              GROUP BY
                                1,
                                2,
                                3
                            ) AS "t26"
                          ) AS "t33"
                          GROUP BY
                            1,
                            2
                        ) AS "t44"
                        GROUP BY
                          1
                      ) AS "t49"
                    ) AS "t55"
                      ON "t53"."subscriber_id" = "t55"."_key"
                  ) AS "t59"
                ) AS "t62"
                LEFT OUTER JOIN (
                  SELECT
                    "t45"."subscriber_id" AS "_key",
                    "t45"."cart_abandonments_30d",
                    "t45"."cart_abandonments_90d",
                    "t45"."cart_abandonments_365d"
                  FROM (
                    SELECT
                      "t39"."subscriber_id",
                      SUM(CAST("t39"."n" AS DOUBLE)) FILTER(WHERE
                        "t39"."bucket" <= 0) AS "cart_abandonments_30d",
                      SUM(CAST("t39"."n" AS DOUBLE)) FILTER(WHERE
                        "t39"."bucket" <= 1) AS "cart_abandonments_90d",
                      SUM(CAST("t39"."n" AS DOUBLE)) FILTER(WHERE
                        "t39"."bucket" <= 2) AS "cart_abandonments_365d"
                    FROM (
                      SELECT
                        "t31"."subscriber_id",
                        "t31"."bucket",
                        COUNT(*) AS "n"
                      FROM (
                        SELECT
                          "t23"."subscriber_id",
                          "t23"."ts",
                          CASE
                            WHEN "t23"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
                            THEN 0
                            WHEN "t23"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
                            THEN 1
                            WHEN "t23"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
                            THEN 2
                            ELSE 3
                          END AS "bucket"
                        FROM (
                          SELECT
                            "t9"."subscriber_id",
                            "t9"."ts"
                          FROM (
                            SELECT
                              "t2"."subscriber_id",
                              "t2"."ts"
                            FROM "events" AS "t2"
                            WHERE
                              "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
                              AND "t2"."event_type" = 'cart_add'
                              AND "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 29, 0, 0, 0.0, 'UTC')
                          ) AS "t9"
                          ANTI JOIN (
                            SELECT
                              "t2"."subscriber_id" AS "buyer_id",
                              "t2"."ts" AS "purchase_ts"
                            FROM "events" AS "t2"
                            WHERE
                              "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
                              AND "t2"."event_type" = 'purchase'
                          ) AS "t8"
                            ON "t9"."subscriber_id" = "t8"."buyer_id"
                            AND "t8"."purchase_ts" >= "t9"."ts"
                            AND "t8"."purchase_ts" <= (
                              "t9"."ts" + INTERVAL '86400' SECOND
                            )
                        ) AS "t23"
                      ) AS "t31"
                      GROUP BY
                        1,
                        2
                    ) AS "t39"
                    GROUP BY
                      1
                  ) AS "t45"
                ) AS "t50"
                  ON "t62"."subscriber_id" = "t50"."_key"
              ) AS "t66"
            ) AS "t69"
            LEFT OUTER JOIN (
              SELECT
                "t65"."subscriber_id" AS "_key",
                "t65"."frequency",
                "t65"."recency",
                "t65"."T",
                "t65"."monetary_value"
              FROM (
                SELECT
                  "t34"."subscriber_id",
                  CAST("t34"."n_days" - 1 AS DOUBLE) AS "frequency",
                  (
                    "t34"."last_day" - "t34"."first_day"
                  ) / 1 AS "recency",
                  (
                    19904 - "t34"."first_day"
                  ) / 1 AS "T",
                  CASE
                    WHEN (
                      "t34"."n_days" - 1
                    ) > 0
                    THEN GREATEST(
                      (
                        (
                          "t34"."total_value" - "t34"."first_value"
                        ) + COALESCE("t58"."later_refunds", 0.0)
                      ) / (
                        "t34"."n_days" - 1
                      ),
                      0.0
                    )
                    ELSE 0.0
                  END AS "monetary_value"
                FROM "t28" AS "t34"
                LEFT OUTER JOIN (
                  SELECT
                    "t52"."subscriber_id",
                    SUM("t52"."value") AS "later_refunds"
                  FROM (
                    SELECT
                      *
                    FROM (
                      SELECT
                        "t18"."subscriber_id",
                        "t18"."event_type",
                        "t18"."ts",
                        "t18"."campaign_id",
                        "t18"."value",
                        "t18"."machine_open",
                        "t18"."properties",
                        "t18"."day",
                        "t41"."first_day"
                      FROM (
                        SELECT
                          "t2"."subscriber_id",
                          "t2"."event_type",
                          "t2"."ts",
                          "t2"."campaign_id",
                          "t2"."value",
                          COALESCE("t2"."machine_open", FALSE) AS "machine_open",
                          CAST(NULL AS TEXT) AS "properties",
                          CAST(FLOOR(EPOCH(CAST("t2"."ts" AS TIMESTAMP)) / 86400) AS BIGINT) AS "day"
                        FROM "events" AS "t2"
                        WHERE
                          "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
                          AND "t2"."event_type" = 'refund'
                      ) AS "t18"
                      INNER JOIN (
                        SELECT
                          "t30"."subscriber_id",
                          "t30"."first_day"
                        FROM "t28" AS "t30"
                      ) AS "t41"
                        ON "t18"."subscriber_id" = "t41"."subscriber_id"
                    ) AS "t46"
                    WHERE
                      "t46"."day" > "t46"."first_day"
                  ) AS "t52"
                  GROUP BY
                    1
                ) AS "t58"
                  ON "t34"."subscriber_id" = "t58"."subscriber_id"
              ) AS "t65"
            ) AS "t70"
              ON "t69"."subscriber_id" = "t70"."_key"
          ) AS "t71"
        ) AS "t73"
        LEFT OUTER JOIN (
          SELECT
            "t61"."subscriber_id" AS "_key",
            "t61"."opens_hour_00",
            "t61"."opens_hour_01",
            "t61"."opens_hour_02",
            "t61"."opens_hour_03",
            "t61"."opens_hour_04",
            "t61"."opens_hour_05",
            "t61"."opens_hour_06",
            "t61"."opens_hour_07",
            "t61"."opens_hour_08",
            "t61"."opens_hour_09",
            "t61"."opens_hour_10",
            "t61"."opens_hour_11",
            "t61"."opens_hour_12",
            "t61"."opens_hour_13",
            "t61"."opens_hour_14",
            "t61"."opens_hour_15",
            "t61"."opens_hour_16",
            "t61"."opens_hour_17",
            "t61"."opens_hour_18",
            "t61"."opens_hour_19",
            "t61"."opens_hour_20",
            "t61"."opens_hour_21",
            "t61"."opens_hour_22",
            "t61"."opens_hour_23",
            "t61"."opens_weekday_0",
            "t61"."opens_weekday_1",
            "t61"."opens_weekday_2",
            "t61"."opens_weekday_3",
            "t61"."opens_weekday_4",
            "t61"."opens_weekday_5",
            "t61"."opens_weekday_6"
          FROM (
            SELECT
              "t56"."subscriber_id",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 0) AS "opens_hour_00",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 1) AS "opens_hour_01",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 2) AS "opens_hour_02",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 3) AS "opens_hour_03",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 4) AS "opens_hour_04",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 5) AS "opens_hour_05",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 6) AS "opens_hour_06",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 7) AS "opens_hour_07",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 8) AS "opens_hour_08",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 9) AS "opens_hour_09",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 10) AS "opens_hour_10",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 11) AS "opens_hour_11",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 12) AS "opens_hour_12",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 13) AS "opens_hour_13",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 14) AS "opens_hour_14",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 15) AS "opens_hour_15",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 16) AS "opens_hour_16",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 17) AS "opens_hour_17",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 18) AS "opens_hour_18",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 19) AS "opens_hour_19",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 20) AS "opens_hour_20",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 21) AS "opens_hour_21",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 22) AS "opens_hour_22",
              COUNT(*) FILTER(WHERE
                (
                  "t56"."slot" % 24
                ) = 23) AS "opens_hour_23",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 0) AS "opens_weekday_0",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 1) AS "opens_weekday_1",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 2) AS "opens_weekday_2",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 3) AS "opens_weekday_3",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 4) AS "opens_weekday_4",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 5) AS "opens_weekday_5",
              COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t56"."slot"
                ) / (
                  24
                )) AS BIGINT) = 6) AS "opens_weekday_6"
            FROM (
              SELECT
                "t40"."subscriber_id",
                "t40"."ts",
                CAST((
                  (
                    (
                      CAST(FLOOR((
                        "t40"."epoch" + "t3"."offset_seconds"
                      ) / 86400) AS BIGINT) + 3
                    ) % 7
                  ) * 24
                ) + CAST(FLOOR((
                  (
                    "t40"."epoch" + "t3"."offset_seconds"
                  ) % 86400
                ) / 3600) AS BIGINT) AS SMALLINT) AS "slot"
              FROM (
                SELECT
                  "t25"."subscriber_id",
                  "t25"."ts",
                  "t25"."zone",
                  EPOCH(CAST("t25"."ts" AS TIMESTAMP)) AS "epoch",
                  CAST(FLOOR(EPOCH(CAST("t25"."ts" AS TIMESTAMP)) / 2592000) AS BIGINT) AS "period"
                FROM (
                  SELECT
                    "t16"."subscriber_id",
                    "t16"."ts",
                    COALESCE("t5"."zone_name", 'UTC') AS "zone"
                  FROM (
                    SELECT
                      "t2"."subscriber_id",
                      "t2"."event_type",
                      "t2"."ts",
                      "t2"."campaign_id",
                      "t2"."value",
                      COALESCE("t2"."machine_open", FALSE) AS "machine_open",
                      CAST(NULL AS TEXT) AS "properties"
                    FROM "events" AS "t2"
                    WHERE
                      "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
                      AND "t2"."event_type" = 'open'
                      AND NOT (
                        COALESCE("t2"."machine_open", FALSE)
                      )
                  ) AS "t16"
                  LEFT OUTER JOIN (
                    SELECT
                      "t0"."subscriber_id" AS "zone_owner",
                      "t0"."timezone" AS "zone_name"
                    FROM "subscribers" AS "t0"
                  ) AS "t5"
                    ON "t16"."subscriber_id" = "t5"."zone_owner"
                ) AS "t25"
              ) AS "t40"
              INNER JOIN "tz_offsets" AS "t3"
                ON "t40"."zone" = "t3"."offset_zone"
                AND "t40"."period" = "t3"."period"
                AND "t40"."epoch" >= "t3"."start"
                AND "t40"."epoch" < "t3"."end"
            ) AS "t56"
            GROUP BY
              1
          ) AS "t61"
        ) AS "t64"
          ON "t73"."subscriber_id" = "t64"."_key"
      ) AS "t74"
    ) AS "t76"
    LEFT OUTER JOIN (
      SELECT
        "t17"."subscriber_id" AS "_key",
        "t17"."timezone",
        "t17"."consent",
        "t17"."signup_at",
        "t17"."unsubscribed"
      FROM (
        SELECT
          "t13".*
          EXCLUDE ("listed")
        FROM (
          SELECT
            "t0"."subscriber_id",
            "t0"."timezone",
            "t0"."consent",
            (
              CAST("t0"."signup_at" AS TIMESTAMPTZ) IS NULL
            )
            OR (
              CAST("t0"."signup_at" AS TIMESTAMPTZ) <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
            ) AS "listed",
            CASE
              WHEN CAST("t0"."signup_at" AS TIMESTAMPTZ) <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
              THEN CAST("t0"."signup_at" AS TIMESTAMPTZ)
              ELSE CAST(NULL AS TIMESTAMPTZ)
            END AS "signup_at",
            COALESCE(
              CAST("t0"."unsubscribed_at" AS TIMESTAMPTZ) <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC'),
              FALSE
            ) AS "unsubscribed"
          FROM "subscribers" AS "t0"
        ) AS "t13"
      ) AS "t17"
    ) AS "t21"
      ON "t76"."subscriber_id" = "t21"."_key"
  ) AS "t77"
) AS "t78"
ORDER BY
  "t78"."subscriber_id" ASC
