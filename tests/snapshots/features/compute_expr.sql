WITH "t26" AS (
  SELECT
    "t16"."subscriber_id",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_sends"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "sends_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_opens"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "opens_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_clicks"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "clicks_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_purchase_count"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "purchase_count_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_web_visits"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "web_visits_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_product_views"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "product_views_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_cart_adds"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "cart_adds_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_unsubscribes"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "unsubscribes_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_human_open"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "human_opens_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_pricing"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "pricing_page_visits_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_valued"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "valued_30d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_sends"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "sends_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_opens"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "opens_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_clicks"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "clicks_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_purchase_count"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "purchase_count_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_web_visits"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "web_visits_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_product_views"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "product_views_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_cart_adds"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "cart_adds_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_unsubscribes"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "unsubscribes_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_human_open"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "human_opens_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_pricing"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "pricing_page_visits_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_valued"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "valued_90d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_sends"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "sends_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_opens"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "opens_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_clicks"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "clicks_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_purchase_count"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "purchase_count_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_web_visits"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "web_visits_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_product_views"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "product_views_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_cart_adds"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "cart_adds_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_unsubscribes"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "unsubscribes_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_human_open"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "human_opens_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_pricing"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "pricing_page_visits_365d",
    CAST(COUNT(*) FILTER(WHERE
      "t16"."_is_valued"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS INT) AS "valued_365d",
    SUM("t16"."value") FILTER(WHERE
      "t16"."_is_money"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      )) AS "revenue_30d",
    SUM("t16"."value") FILTER(WHERE
      "t16"."_is_money"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      )) AS "revenue_90d",
    SUM("t16"."value") FILTER(WHERE
      "t16"."_is_money"
      AND (
        "t16"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      )) AS "revenue_365d",
    MAX("t16"."ts") FILTER(WHERE
      "t16"."_is_human_open") AS "last_open_ts",
    MAX("t16"."ts") FILTER(WHERE
      "t16"."_is_clicks") AS "last_click_ts",
    MAX("t16"."ts") FILTER(WHERE
      "t16"."_is_purchase_count") AS "last_purchase_ts",
    MIN("t16"."ts") AS "first_ts",
    COUNT(*) FILTER(WHERE
      "t16"."_is_unsubscribes") > 0 AS "any_unsubscribe"
  FROM (
    SELECT
      "t2"."subscriber_id",
      "t2"."event_type",
      "t2"."ts",
      "t2"."campaign_id",
      "t2"."value",
      COALESCE("t2"."machine_open", FALSE) AS "machine_open",
      CAST(NULL AS TEXT) AS "properties",
      "t2"."event_type" = 'send' AS "_is_sends",
      "t2"."event_type" = 'open' AS "_is_opens",
      "t2"."event_type" = 'click' AS "_is_clicks",
      "t2"."event_type" = 'purchase' AS "_is_purchase_count",
      "t2"."event_type" = 'web_visit' AS "_is_web_visits",
      "t2"."event_type" = 'product_view' AS "_is_product_views",
      "t2"."event_type" = 'cart_add' AS "_is_cart_adds",
      "t2"."event_type" = 'unsubscribe' AS "_is_unsubscribes",
      (
        "t2"."event_type" = 'open'
      )
      AND NOT (
        COALESCE("t2"."machine_open", FALSE)
      ) AS "_is_human_open",
      (
        "t2"."event_type" = 'web_visit'
      )
      AND REGEXP_MATCHES(CAST(NULL AS TEXT), '(?i)"(page|url|path)"\s*:\s*"[^"]*pricing') AS "_is_pricing",
      (
        "t2"."event_type" = 'purchase'
      ) AND (
        "t2"."value" IS NOT NULL
      ) AS "_is_valued",
      (
        "t2"."event_type" = 'purchase'
      ) OR (
        "t2"."event_type" = 'refund'
      ) AS "_is_money"
    FROM "events" AS "t2"
    WHERE
      "t2"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
  ) AS "t16"
  GROUP BY
    1
), "t27" AS (
  SELECT
    "t23"."subscriber_id",
    COUNT("t23"."day") AS "n_days",
    MIN("t23"."day") AS "first_day",
    MAX("t23"."day") AS "last_day",
    SUM("t23"."day_value") AS "total_value",
    FIRST("t23"."day_value" ORDER BY "t23"."day") AS "first_value"
  FROM (
    SELECT
      "t13"."subscriber_id",
      "t13"."day",
      COALESCE(SUM("t13"."value"), 0.0) AS "day_value"
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
    ) AS "t13"
    GROUP BY
      1,
      2
  ) AS "t23"
  GROUP BY
    1
)
SELECT
  "t73"."subscriber_id",
  CAST(COALESCE("t73"."sends_30d", 0) AS BIGINT) AS "sends_30d",
  CAST(COALESCE("t73"."opens_30d", 0) AS BIGINT) AS "opens_30d",
  CAST(COALESCE("t73"."human_opens_30d", 0) AS BIGINT) AS "human_opens_30d",
  CAST(COALESCE("t73"."unique_opens_30d", 0) AS BIGINT) AS "unique_opens_30d",
  CAST(COALESCE("t73"."clicks_30d", 0) AS BIGINT) AS "clicks_30d",
  CAST(COALESCE("t73"."unique_clicks_30d", 0) AS BIGINT) AS "unique_clicks_30d",
  CASE
    WHEN CAST(COALESCE("t73"."sends_30d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_opens_30d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."sends_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "open_rate_30d",
  CASE
    WHEN CAST(COALESCE("t73"."sends_30d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_clicks_30d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."sends_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_rate_30d",
  CASE
    WHEN CAST(COALESCE("t73"."unique_opens_30d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_clicks_30d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."unique_opens_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_to_open_rate_30d",
  CAST(COALESCE("t73"."purchase_count_30d", 0) AS BIGINT) AS "purchase_count_30d",
  COALESCE("t73"."revenue_30d", 0.0) AS "revenue_30d",
  CASE
    WHEN CAST(COALESCE("t73"."valued_30d", 0) AS BIGINT) > 0
    THEN COALESCE("t73"."revenue_30d", 0.0) / CAST(COALESCE("t73"."valued_30d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "average_order_value_30d",
  CAST(COALESCE("t73"."web_visits_30d", 0) AS BIGINT) AS "web_visits_30d",
  CAST(COALESCE("t73"."pricing_page_visits_30d", 0) AS BIGINT) AS "pricing_page_visits_30d",
  CAST(COALESCE("t73"."product_views_30d", 0) AS BIGINT) AS "product_views_30d",
  CAST(COALESCE("t73"."cart_adds_30d", 0) AS BIGINT) AS "cart_adds_30d",
  CAST(COALESCE("t73"."cart_abandonments_30d", 0) AS BIGINT) AS "cart_abandonments_30d",
  CAST(COALESCE("t73"."unsubscribes_30d", 0) AS BIGINT) AS "unsubscribes_30d",
  CAST(COALESCE("t73"."sends_90d", 0) AS BIGINT) AS "sends_90d",
  CAST(COALESCE("t73"."opens_90d", 0) AS BIGINT) AS "opens_90d",
  CAST(COALESCE("t73"."human_opens_90d", 0) AS BIGINT) AS "human_opens_90d",
  CAST(COALESCE("t73"."unique_opens_90d", 0) AS BIGINT) AS "unique_opens_90d",
  CAST(COALESCE("t73"."clicks_90d", 0) AS BIGINT) AS "clicks_90d",
  CAST(COALESCE("t73"."unique_clicks_90d", 0) AS BIGINT) AS "unique_clicks_90d",
  CASE
    WHEN CAST(COALESCE("t73"."sends_90d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_opens_90d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."sends_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "open_rate_90d",
  CASE
    WHEN CAST(COALESCE("t73"."sends_90d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_clicks_90d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."sends_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_rate_90d",
  CASE
    WHEN CAST(COALESCE("t73"."unique_opens_90d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_clicks_90d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."unique_opens_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_to_open_rate_90d",
  CAST(COALESCE("t73"."purchase_count_90d", 0) AS BIGINT) AS "purchase_count_90d",
  COALESCE("t73"."revenue_90d", 0.0) AS "revenue_90d",
  CASE
    WHEN CAST(COALESCE("t73"."valued_90d", 0) AS BIGINT) > 0
    THEN COALESCE("t73"."revenue_90d", 0.0) / CAST(COALESCE("t73"."valued_90d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "average_order_value_90d",
  CAST(COALESCE("t73"."web_visits_90d", 0) AS BIGINT) AS "web_visits_90d",
  CAST(COALESCE("t73"."pricing_page_visits_90d", 0) AS BIGINT) AS "pricing_page_visits_90d",
  CAST(COALESCE("t73"."product_views_90d", 0) AS BIGINT) AS "product_views_90d",
  CAST(COALESCE("t73"."cart_adds_90d", 0) AS BIGINT) AS "cart_adds_90d",
  CAST(COALESCE("t73"."cart_abandonments_90d", 0) AS BIGINT) AS "cart_abandonments_90d",
  CAST(COALESCE("t73"."unsubscribes_90d", 0) AS BIGINT) AS "unsubscribes_90d",
  CAST(COALESCE("t73"."sends_365d", 0) AS BIGINT) AS "sends_365d",
  CAST(COALESCE("t73"."opens_365d", 0) AS BIGINT) AS "opens_365d",
  CAST(COALESCE("t73"."human_opens_365d", 0) AS BIGINT) AS "human_opens_365d",
  CAST(COALESCE("t73"."unique_opens_365d", 0) AS BIGINT) AS "unique_opens_365d",
  CAST(COALESCE("t73"."clicks_365d", 0) AS BIGINT) AS "clicks_365d",
  CAST(COALESCE("t73"."unique_clicks_365d", 0) AS BIGINT) AS "unique_clicks_365d",
  CASE
    WHEN CAST(COALESCE("t73"."sends_365d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_opens_365d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."sends_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "open_rate_365d",
  CASE
    WHEN CAST(COALESCE("t73"."sends_365d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_clicks_365d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."sends_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_rate_365d",
  CASE
    WHEN CAST(COALESCE("t73"."unique_opens_365d", 0) AS BIGINT) > 0
    THEN CAST(CAST(COALESCE("t73"."unique_clicks_365d", 0) AS BIGINT) AS DOUBLE) / CAST(COALESCE("t73"."unique_opens_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "click_to_open_rate_365d",
  CAST(COALESCE("t73"."purchase_count_365d", 0) AS BIGINT) AS "purchase_count_365d",
  COALESCE("t73"."revenue_365d", 0.0) AS "revenue_365d",
  CASE
    WHEN CAST(COALESCE("t73"."valued_365d", 0) AS BIGINT) > 0
    THEN COALESCE("t73"."revenue_365d", 0.0) / CAST(COALESCE("t73"."valued_365d", 0) AS BIGINT)
    ELSE CAST(NULL AS DOUBLE)
  END AS "average_order_value_365d",
  CAST(COALESCE("t73"."web_visits_365d", 0) AS BIGINT) AS "web_visits_365d",
  CAST(COALESCE("t73"."pricing_page_visits_365d", 0) AS BIGINT) AS "pricing_page_visits_365d",
  CAST(COALESCE("t73"."product_views_365d", 0) AS BIGINT) AS "product_views_365d",
  CAST(COALESCE("t73"."cart_adds_365d", 0) AS BIGINT) AS "cart_adds_365d",
  CAST(COALESCE("t73"."cart_abandonments_365d", 0) AS BIGINT) AS "cart_abandonments_365d",
  CAST(COALESCE("t73"."unsubscribes_365d", 0) AS BIGINT) AS "unsubscribes_365d",
  (
    1719705600.0 - (
      CAST(EPOCH(CAST(DATE_TRUNC('SECOND', "t73"."last_open_ts") AS TIMESTAMP)) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM "t73"."last_open_ts") % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "days_since_last_open",
  (
    1719705600.0 - (
      CAST(EPOCH(CAST(DATE_TRUNC('SECOND', "t73"."last_click_ts") AS TIMESTAMP)) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM "t73"."last_click_ts") % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "days_since_last_click",
  (
    1719705600.0 - (
      CAST(EPOCH(CAST(DATE_TRUNC('SECOND', "t73"."last_purchase_ts") AS TIMESTAMP)) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM "t73"."last_purchase_ts") % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "days_since_last_purchase",
  (
    1719705600.0 - (
      CAST(EPOCH(
        CAST(DATE_TRUNC('SECOND', LEAST("t73"."signup_at", "t73"."first_ts")) AS TIMESTAMP)
      ) AS DOUBLE) + (
        CAST(EXTRACT('MICROSECOND' FROM LEAST("t73"."signup_at", "t73"."first_ts")) % 1000000 AS DOUBLE) / 1000000.0
      )
    )
  ) / 86400 AS "tenure_days",
  "t73"."frequency",
  "t73"."recency",
  "t73"."T",
  "t73"."monetary_value",
  CAST(COALESCE("t73"."opens_hour_00", 0) AS BIGINT) AS "opens_hour_00",
  CAST(COALESCE("t73"."opens_hour_01", 0) AS BIGINT) AS "opens_hour_01",
  CAST(COALESCE("t73"."opens_hour_02", 0) AS BIGINT) AS "opens_hour_02",
  CAST(COALESCE("t73"."opens_hour_03", 0) AS BIGINT) AS "opens_hour_03",
  CAST(COALESCE("t73"."opens_hour_04", 0) AS BIGINT) AS "opens_hour_04",
  CAST(COALESCE("t73"."opens_hour_05", 0) AS BIGINT) AS "opens_hour_05",
  CAST(COALESCE("t73"."opens_hour_06", 0) AS BIGINT) AS "opens_hour_06",
  CAST(COALESCE("t73"."opens_hour_07", 0) AS BIGINT) AS "opens_hour_07",
  CAST(COALESCE("t73"."opens_hour_08", 0) AS BIGINT) AS "opens_hour_08",
  CAST(COALESCE("t73"."opens_hour_09", 0) AS BIGINT) AS "opens_hour_09",
  CAST(COALESCE("t73"."opens_hour_10", 0) AS BIGINT) AS "opens_hour_10",
  CAST(COALESCE("t73"."opens_hour_11", 0) AS BIGINT) AS "opens_hour_11",
  CAST(COALESCE("t73"."opens_hour_12", 0) AS BIGINT) AS "opens_hour_12",
  CAST(COALESCE("t73"."opens_hour_13", 0) AS BIGINT) AS "opens_hour_13",
  CAST(COALESCE("t73"."opens_hour_14", 0) AS BIGINT) AS "opens_hour_14",
  CAST(COALESCE("t73"."opens_hour_15", 0) AS BIGINT) AS "opens_hour_15",
  CAST(COALESCE("t73"."opens_hour_16", 0) AS BIGINT) AS "opens_hour_16",
  CAST(COALESCE("t73"."opens_hour_17", 0) AS BIGINT) AS "opens_hour_17",
  CAST(COALESCE("t73"."opens_hour_18", 0) AS BIGINT) AS "opens_hour_18",
  CAST(COALESCE("t73"."opens_hour_19", 0) AS BIGINT) AS "opens_hour_19",
  CAST(COALESCE("t73"."opens_hour_20", 0) AS BIGINT) AS "opens_hour_20",
  CAST(COALESCE("t73"."opens_hour_21", 0) AS BIGINT) AS "opens_hour_21",
  CAST(COALESCE("t73"."opens_hour_22", 0) AS BIGINT) AS "opens_hour_22",
  CAST(COALESCE("t73"."opens_hour_23", 0) AS BIGINT) AS "opens_hour_23",
  CAST(COALESCE("t73"."opens_weekday_0", 0) AS BIGINT) AS "opens_weekday_0",
  CAST(COALESCE("t73"."opens_weekday_1", 0) AS BIGINT) AS "opens_weekday_1",
  CAST(COALESCE("t73"."opens_weekday_2", 0) AS BIGINT) AS "opens_weekday_2",
  CAST(COALESCE("t73"."opens_weekday_3", 0) AS BIGINT) AS "opens_weekday_3",
  CAST(COALESCE("t73"."opens_weekday_4", 0) AS BIGINT) AS "opens_weekday_4",
  CAST(COALESCE("t73"."opens_weekday_5", 0) AS BIGINT) AS "opens_weekday_5",
  CAST(COALESCE("t73"."opens_weekday_6", 0) AS BIGINT) AS "opens_weekday_6",
  COALESCE("t73"."unsubscribed", FALSE) OR COALESCE("t73"."any_unsubscribe", FALSE) AS "unsubscribed",
  "t73"."consent",
  "t73"."timezone"
FROM (
  SELECT
    "t72".*
    EXCLUDE ("_key")
  FROM (
    SELECT
      "t71"."subscriber_id",
      "t71"."sends_30d",
      "t71"."opens_30d",
      "t71"."clicks_30d",
      "t71"."purchase_count_30d",
      "t71"."web_visits_30d",
      "t71"."product_views_30d",
      "t71"."cart_adds_30d",
      "t71"."unsubscribes_30d",
      "t71"."human_opens_30d",
      "t71"."pricing_page_visits_30d",
      "t71"."valued_30d",
      "t71"."sends_90d",
      "t71"."opens_90d",
      "t71"."clicks_90d",
      "t71"."purchase_count_90d",
      "t71"."web_visits_90d",
      "t71"."product_views_90d",
      "t71"."cart_adds_90d",
      "t71"."unsubscribes_90d",
      "t71"."human_opens_90d",
      "t71"."pricing_page_visits_90d",
      "t71"."valued_90d",
      "t71"."sends_365d",
      "t71"."opens_365d",
      "t71"."clicks_365d",
      "t71"."purchase_count_365d",
      "t71"."web_visits_365d",
      "t71"."product_views_365d",
      "t71"."cart_adds_365d",
      "t71"."unsubscribes_365d",
      "t71"."human_opens_365d",
      "t71"."pricing_page_visits_365d",
      "t71"."valued_365d",
      "t71"."revenue_30d",
      "t71"."revenue_90d",
      "t71"."revenue_365d",
      "t71"."last_open_ts",
      "t71"."last_click_ts",
      "t71"."last_purchase_ts",
      "t71"."first_ts",
      "t71"."any_unsubscribe",
      "t71"."unique_opens_30d",
      "t71"."unique_clicks_30d",
      "t71"."unique_opens_90d",
      "t71"."unique_clicks_90d",
      "t71"."unique_opens_365d",
      "t71"."unique_clicks_365d",
      "t71"."cart_abandonments_30d",
      "t71"."cart_abandonments_90d",
      "t71"."cart_abandonments_365d",
      "t71"."frequency",
      "t71"."recency",
      "t71"."T",
      "t71"."monetary_value",
      "t71"."opens_hour_00",
      "t71"."opens_hour_01",
      "t71"."opens_hour_02",
      "t71"."opens_hour_03",
      "t71"."opens_hour_04",
      "t71"."opens_hour_05",
      "t71"."opens_hour_06",
      "t71"."opens_hour_07",
      "t71"."opens_hour_08",
      "t71"."opens_hour_09",
      "t71"."opens_hour_10",
      "t71"."opens_hour_11",
      "t71"."opens_hour_12",
      "t71"."opens_hour_13",
      "t71"."opens_hour_14",
      "t71"."opens_hour_15",
      "t71"."opens_hour_16",
      "t71"."opens_hour_17",
      "t71"."opens_hour_18",
      "t71"."opens_hour_19",
      "t71"."opens_hour_20",
      "t71"."opens_hour_21",
      "t71"."opens_hour_22",
      "t71"."opens_hour_23",
      "t71"."opens_weekday_0",
      "t71"."opens_weekday_1",
      "t71"."opens_weekday_2",
      "t71"."opens_weekday_3",
      "t71"."opens_weekday_4",
      "t71"."opens_weekday_5",
      "t71"."opens_weekday_6",
      "t21"."_key",
      "t21"."timezone",
      "t21"."consent",
      "t21"."signup_at",
      "t21"."unsubscribed"
    FROM (
      SELECT
        "t69".*
        EXCLUDE ("_key")
      FROM (
        SELECT
          "t68"."subscriber_id",
          "t68"."sends_30d",
          "t68"."opens_30d",
          "t68"."clicks_30d",
          "t68"."purchase_count_30d",
          "t68"."web_visits_30d",
          "t68"."product_views_30d",
          "t68"."cart_adds_30d",
          "t68"."unsubscribes_30d",
          "t68"."human_opens_30d",
          "t68"."pricing_page_visits_30d",
          "t68"."valued_30d",
          "t68"."sends_90d",
          "t68"."opens_90d",
          "t68"."clicks_90d",
          "t68"."purchase_count_90d",
          "t68"."web_visits_90d",
          "t68"."product_views_90d",
          "t68"."cart_adds_90d",
          "t68"."unsubscribes_90d",
          "t68"."human_opens_90d",
          "t68"."pricing_page_visits_90d",
          "t68"."valued_90d",
          "t68"."sends_365d",
          "t68"."opens_365d",
          "t68"."clicks_365d",
          "t68"."purchase_count_365d",
          "t68"."web_visits_365d",
          "t68"."product_views_365d",
          "t68"."cart_adds_365d",
          "t68"."unsubscribes_365d",
          "t68"."human_opens_365d",
          "t68"."pricing_page_visits_365d",
          "t68"."valued_365d",
          "t68"."revenue_30d",
          "t68"."revenue_90d",
          "t68"."revenue_365d",
          "t68"."last_open_ts",
          "t68"."last_click_ts",
          "t68"."last_purchase_ts",
          "t68"."first_ts",
          "t68"."any_unsubscribe",
          "t68"."unique_opens_30d",
          "t68"."unique_clicks_30d",
          "t68"."unique_opens_90d",
          "t68"."unique_clicks_90d",
          "t68"."unique_opens_365d",
          "t68"."unique_clicks_365d",
          "t68"."cart_abandonments_30d",
          "t68"."cart_abandonments_90d",
          "t68"."cart_abandonments_365d",
          "t68"."frequency",
          "t68"."recency",
          "t68"."T",
          "t68"."monetary_value",
          "t62"."_key",
          "t62"."opens_hour_00",
          "t62"."opens_hour_01",
          "t62"."opens_hour_02",
          "t62"."opens_hour_03",
          "t62"."opens_hour_04",
          "t62"."opens_hour_05",
          "t62"."opens_hour_06",
          "t62"."opens_hour_07",
          "t62"."opens_hour_08",
          "t62"."opens_hour_09",
          "t62"."opens_hour_10",
          "t62"."opens_hour_11",
          "t62"."opens_hour_12",
          "t62"."opens_hour_13",
          "t62"."opens_hour_14",
          "t62"."opens_hour_15",
          "t62"."opens_hour_16",
          "t62"."opens_hour_17",
          "t62"."opens_hour_18",
          "t62"."opens_hour_19",
          "t62"."opens_hour_20",
          "t62"."opens_hour_21",
          "t62"."opens_hour_22",
          "t62"."opens_hour_23",
          "t62"."opens_weekday_0",
          "t62"."opens_weekday_1",
          "t62"."opens_weekday_2",
          "t62"."opens_weekday_3",
          "t62"."opens_weekday_4",
          "t62"."opens_weekday_5",
          "t62"."opens_weekday_6"
        FROM (
          SELECT
            "t66".*
            EXCLUDE ("_key")
          FROM (
            SELECT
              "t63"."subscriber_id",
              "t63"."sends_30d",
              "t63"."opens_30d",
              "t63"."clicks_30d",
              "t63"."purchase_count_30d",
              "t63"."web_visits_30d",
              "t63"."product_views_30d",
              "t63"."cart_adds_30d",
              "t63"."unsubscribes_30d",
              "t63"."human_opens_30d",
              "t63"."pricing_page_visits_30d",
              "t63"."valued_30d",
              "t63"."sends_90d",
              "t63"."opens_90d",
              "t63"."clicks_90d",
              "t63"."purchase_count_90d",
              "t63"."web_visits_90d",
              "t63"."product_views_90d",
              "t63"."cart_adds_90d",
              "t63"."unsubscribes_90d",
              "t63"."human_opens_90d",
              "t63"."pricing_page_visits_90d",
              "t63"."valued_90d",
              "t63"."sends_365d",
              "t63"."opens_365d",
              "t63"."clicks_365d",
              "t63"."purchase_count_365d",
              "t63"."web_visits_365d",
              "t63"."product_views_365d",
              "t63"."cart_adds_365d",
              "t63"."unsubscribes_365d",
              "t63"."human_opens_365d",
              "t63"."pricing_page_visits_365d",
              "t63"."valued_365d",
              "t63"."revenue_30d",
              "t63"."revenue_90d",
              "t63"."revenue_365d",
              "t63"."last_open_ts",
              "t63"."last_click_ts",
              "t63"."last_purchase_ts",
              "t63"."first_ts",
              "t63"."any_unsubscribe",
              "t63"."unique_opens_30d",
              "t63"."unique_clicks_30d",
              "t63"."unique_opens_90d",
              "t63"."unique_clicks_90d",
              "t63"."unique_opens_365d",
              "t63"."unique_clicks_365d",
              "t63"."cart_abandonments_30d",
              "t63"."cart_abandonments_90d",
              "t63"."cart_abandonments_365d",
              "t65"."_key",
              "t65"."frequency",
              "t65"."recency",
              "t65"."T",
              "t65"."monetary_value"
            FROM (
              SELECT
                "t58".*
                EXCLUDE ("_key")
              FROM (
                SELECT
                  "t56"."subscriber_id",
                  "t56"."sends_30d",
                  "t56"."opens_30d",
                  "t56"."clicks_30d",
                  "t56"."purchase_count_30d",
                  "t56"."web_visits_30d",
                  "t56"."product_views_30d",
                  "t56"."cart_adds_30d",
                  "t56"."unsubscribes_30d",
                  "t56"."human_opens_30d",
                  "t56"."pricing_page_visits_30d",
                  "t56"."valued_30d",
                  "t56"."sends_90d",
                  "t56"."opens_90d",
                  "t56"."clicks_90d",
                  "t56"."purchase_count_90d",
                  "t56"."web_visits_90d",
                  "t56"."product_views_90d",
                  "t56"."cart_adds_90d",
                  "t56"."unsubscribes_90d",
                  "t56"."human_opens_90d",
                  "t56"."pricing_page_visits_90d",
                  "t56"."valued_90d",
                  "t56"."sends_365d",
                  "t56"."opens_365d",
                  "t56"."clicks_365d",
                  "t56"."purchase_count_365d",
                  "t56"."web_visits_365d",
                  "t56"."product_views_365d",
                  "t56"."cart_adds_365d",
                  "t56"."unsubscribes_365d",
                  "t56"."human_opens_365d",
                  "t56"."pricing_page_visits_365d",
                  "t56"."valued_365d",
                  "t56"."revenue_30d",
                  "t56"."revenue_90d",
                  "t56"."revenue_365d",
                  "t56"."last_open_ts",
                  "t56"."last_click_ts",
                  "t56"."last_purchase_ts",
                  "t56"."first_ts",
                  "t56"."any_unsubscribe",
                  "t56"."unique_opens_30d",
                  "t56"."unique_clicks_30d",
                  "t56"."unique_opens_90d",
                  "t56"."unique_clicks_90d",
                  "t56"."unique_opens_365d",
                  "t56"."unique_clicks_365d",
                  "t44"."_key",
                  "t44"."cart_abandonments_30d",
                  "t44"."cart_abandonments_90d",
                  "t44"."cart_abandonments_365d"
                FROM (
                  SELECT
                    "t53".*
                    EXCLUDE ("_key")
                  FROM (
                    SELECT
                      "t49"."subscriber_id",
                      "t49"."sends_30d",
                      "t49"."opens_30d",
                      "t49"."clicks_30d",
                      "t49"."purchase_count_30d",
                      "t49"."web_visits_30d",
                      "t49"."product_views_30d",
                      "t49"."cart_adds_30d",
                      "t49"."unsubscribes_30d",
                      "t49"."human_opens_30d",
                      "t49"."pricing_page_visits_30d",
                      "t49"."valued_30d",
                      "t49"."sends_90d",
                      "t49"."opens_90d",
                      "t49"."clicks_90d",
                      "t49"."purchase_count_90d",
                      "t49"."web_visits_90d",
                      "t49"."product_views_90d",
                      "t49"."cart_adds_90d",
                      "t49"."unsubscribes_90d",
                      "t49"."human_opens_90d",
                      "t49"."pricing_page_visits_90d",
                      "t49"."valued_90d",
                      "t49"."sends_365d",
                      "t49"."opens_365d",
                      "t49"."clicks_365d",
                      "t49"."purchase_count_365d",
                      "t49"."web_visits_365d",
                      "t49"."product_views_365d",
                      "t49"."cart_adds_365d",
                      "t49"."unsubscribes_365d",
                      "t49"."human_opens_365d",
                      "t49"."pricing_page_visits_365d",
                      "t49"."valued_365d",
                      "t49"."revenue_30d",
                      "t49"."revenue_90d",
                      "t49"."revenue_365d",
                      "t49"."last_open_ts",
                      "t49"."last_click_ts",
                      "t49"."last_purchase_ts",
                      "t49"."first_ts",
                      "t49"."any_unsubscribe",
                      "t45"."_key",
                      "t45"."unique_opens_30d",
                      "t45"."unique_clicks_30d",
                      "t45"."unique_opens_90d",
                      "t45"."unique_clicks_90d",
                      "t45"."unique_opens_365d",
                      "t45"."unique_clicks_365d"
                    FROM (
                      SELECT
                        "t47".*
                        EXCLUDE ("_key")
                      FROM (
                        SELECT
                          "t41"."subscriber_id",
                          "t39"."_key",
                          "t39"."sends_30d",
                          "t39"."opens_30d",
                          "t39"."clicks_30d",
                          "t39"."purchase_count_30d",
                          "t39"."web_visits_30d",
                          "t39"."product_views_30d",
                          "t39"."cart_adds_30d",
                          "t39"."unsubscribes_30d",
                          "t39"."human_opens_30d",
                          "t39"."pricing_page_visits_30d",
                          "t39"."valued_30d",
                          "t39"."sends_90d",
                          "t39"."opens_90d",
                          "t39"."clicks_90d",
                          "t39"."purchase_count_90d",
                          "t39"."web_visits_90d",
                          "t39"."product_views_90d",
                          "t39"."cart_adds_90d",
                          "t39"."unsubscribes_90d",
                          "t39"."human_opens_90d",
                          "t39"."pricing_page_visits_90d",
                          "t39"."valued_90d",
                          "t39"."sends_365d",
                          "t39"."opens_365d",
                          "t39"."clicks_365d",
                          "t39"."purchase_count_365d",
                          "t39"."web_visits_365d",
                          "t39"."product_views_365d",
                          "t39"."cart_adds_365d",
                          "t39"."unsubscribes_365d",
                          "t39"."human_opens_365d",
                          "t39"."pricing_page_visits_365d",
                          "t39"."valued_365d",
                          "t39"."revenue_30d",
                          "t39"."revenue_90d",
                          "t39"."revenue_365d",
                          "t39"."last_open_ts",
                          "t39"."last_click_ts",
                          "t39"."last_purchase_ts",
                          "t39"."first_ts",
                          "t39"."any_unsubscribe"
                        FROM (
                          SELECT
                            *
                          FROM (
                            SELECT
                              "t28"."subscriber_id"
                            FROM "t26" AS "t28"
                          ) AS "t32"
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
                          ) AS "t11"
                        ) AS "t41"
                        LEFT OUTER JOIN (
                          SELECT
                            "t28"."subscriber_id" AS "_key",
                            "t28"."sends_30d",
                            "t28"."opens_30d",
                            "t28"."clicks_30d",
                            "t28"."purchase_count_30d",
                            "t28"."web_visits_30d",
                            "t28"."product_views_30d",
                            "t28"."cart_adds_30d",
                            "t28"."unsubscribes_30d",
                            "t28"."human_opens_30d",
                            "t28"."pricing_page_visits_30d",
                            "t28"."valued_30d",
                            "t28"."sends_90d",
                            "t28"."opens_90d",
                            "t28"."clicks_90d",
                            "t28"."purchase_count_90d",
                            "t28"."web_visits_90d",
                            "t28"."product_views_90d",
                            "t28"."cart_adds_90d",
                            "t28"."unsubscribes_90d",
                            "t28"."human_opens_90d",
                            "t28"."pricing_page_visits_90d",
                            "t28"."valued_90d",
                            "t28"."sends_365d",
                            "t28"."opens_365d",
                            "t28"."clicks_365d",
                            "t28"."purchase_count_365d",
                            "t28"."web_visits_365d",
                            "t28"."product_views_365d",
                            "t28"."cart_adds_365d",
                            "t28"."unsubscribes_365d",
                            "t28"."human_opens_365d",
                            "t28"."pricing_page_visits_365d",
                            "t28"."valued_365d",
                            "t28"."revenue_30d",
                            "t28"."revenue_90d",
                            "t28"."revenue_365d",
                            "t28"."last_open_ts",
                            "t28"."last_click_ts",
                            "t28"."last_purchase_ts",
                            "t28"."first_ts",
                            "t28"."any_unsubscribe"
                          FROM "t26" AS "t28"
                        ) AS "t39"
                          ON "t41"."subscriber_id" = "t39"."_key"
                      ) AS "t47"
                    ) AS "t49"
                    LEFT OUTER JOIN (
                      SELECT
                        "t37"."subscriber_id" AS "_key",
                        "t37"."unique_opens_30d",
                        "t37"."unique_clicks_30d",
                        "t37"."unique_opens_90d",
                        "t37"."unique_clicks_90d",
                        "t37"."unique_opens_365d",
                        "t37"."unique_clicks_365d"
                      FROM (
                        SELECT
                          "t25"."subscriber_id",
                          CAST(COUNT(*) FILTER(WHERE
                            (
                              "t25"."event_type" = 'open'
                            )
                            AND (
                              "t25"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
                            )) AS INT) AS "unique_opens_30d",
                          CAST(COUNT(*) FILTER(WHERE
                            (
                              "t25"."event_type" = 'click'
                            )
                            AND (
                              "t25"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
                            )) AS INT) AS "unique_clicks_30d",
                          CAST(COUNT(*) FILTER(WHERE
                            (
                              "t25"."event_type" = 'open'
                            )
                            AND (
                              "t25"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
                            )) AS INT) AS "unique_opens_90d",
                          CAST(COUNT(*) FILTER(WHERE
                            (
                              "t25"."event_type" = 'click'
                            )
                            AND (
                              "t25"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
                            )) AS INT) AS "unique_clicks_90d",
                          CAST(COUNT(*) FILTER(WHERE
                            (
                              "t25"."event_type" = 'open'
                            )
                            AND (
                              "t25"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
                            )) AS INT) AS "unique_opens_365d",
                          CAST(COUNT(*) FILTER(WHERE
                            (
                              "t25"."event_type" = 'click'
                            )
                            AND (
                              "t25"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
                            )) AS INT) AS "unique_clicks_365d"
                        FROM (
                          SELECT
                            "t19"."subscriber_id",
                            "t19"."campaign_id",
                            "t19"."event_type",
                            MAX("t19"."ts") AS "ts"
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
                        ) AS "t25"
                        GROUP BY
                          1
                      ) AS "t37"
                    ) AS "t45"
                      ON "t49"."subscriber_id" = "t45"."_key"
                  ) AS "t53"
                ) AS "t56"
                LEFT OUTER JOIN (
                  SELECT
                    "t34"."subscriber_id" AS "_key",
                    "t34"."cart_abandonments_30d",
                    "t34"."cart_abandonments_90d",
                    "t34"."cart_abandonments_365d"
                  FROM (
                    SELECT
                      "t22"."subscriber_id",
                      CAST(COUNT(*) FILTER(WHERE
                        TRUE AND (
                          "t22"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
                        )) AS INT) AS "cart_abandonments_30d",
                      CAST(COUNT(*) FILTER(WHERE
                        TRUE AND (
                          "t22"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
                        )) AS INT) AS "cart_abandonments_90d",
                      CAST(COUNT(*) FILTER(WHERE
                        TRUE AND (
                          "t22"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
                        )) AS INT) AS "cart_abandonments_365d"
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
                    ) AS "t22"
                    GROUP BY
                      1
                  ) AS "t34"
                ) AS "t44"
                  ON "t56"."subscriber_id" = "t44"."_key"
              ) AS "t58"
            ) AS "t63"
            LEFT OUTER JOIN (
              SELECT
                "t61"."subscriber_id" AS "_key",
                "t61"."frequency",
                "t61"."recency",
                "t61"."T",
                "t61"."monetary_value"
              FROM (
                SELECT
                  "t30"."subscriber_id",
                  CAST("t30"."n_days" - 1 AS DOUBLE) AS "frequency",
                  (
                    "t30"."last_day" - "t30"."first_day"
                  ) / 1 AS "recency",
                  (
                    19904 - "t30"."first_day"
                  ) / 1 AS "T",
                  CASE
                    WHEN (
                      "t30"."n_days" - 1
                    ) > 0
                    THEN GREATEST(
                      (
                        (
                          "t30"."total_value" - "t30"."first_value"
                        ) + COALESCE("t54"."later_refunds", 0.0)
                      ) / (
                        "t30"."n_days" - 1
                      ),
                      0.0
                    )
                    ELSE 0.0
                  END AS "monetary_value"
                FROM "t27" AS "t30"
                LEFT OUTER JOIN (
                  SELECT
                    "t50"."subscriber_id",
                    SUM("t50"."value") AS "later_refunds"
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
                        "t40"."first_day"
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
                          "t29"."subscriber_id",
                          "t29"."first_day"
                        FROM "t27" AS "t29"
                      ) AS "t40"
                        ON "t18"."subscriber_id" = "t40"."subscriber_id"
                    ) AS "t46"
                    WHERE
                      "t46"."day" > "t46"."first_day"
                  ) AS "t50"
                  GROUP BY
                    1
                ) AS "t54"
                  ON "t30"."subscriber_id" = "t54"."subscriber_id"
              ) AS "t61"
            ) AS "t65"
              ON "t63"."subscriber_id" = "t65"."_key"
          ) AS "t66"
        ) AS "t68"
        LEFT OUTER JOIN (
          SELECT
            "t57"."subscriber_id" AS "_key",
            "t57"."opens_hour_00",
            "t57"."opens_hour_01",
            "t57"."opens_hour_02",
            "t57"."opens_hour_03",
            "t57"."opens_hour_04",
            "t57"."opens_hour_05",
            "t57"."opens_hour_06",
            "t57"."opens_hour_07",
            "t57"."opens_hour_08",
            "t57"."opens_hour_09",
            "t57"."opens_hour_10",
            "t57"."opens_hour_11",
            "t57"."opens_hour_12",
            "t57"."opens_hour_13",
            "t57"."opens_hour_14",
            "t57"."opens_hour_15",
            "t57"."opens_hour_16",
            "t57"."opens_hour_17",
            "t57"."opens_hour_18",
            "t57"."opens_hour_19",
            "t57"."opens_hour_20",
            "t57"."opens_hour_21",
            "t57"."opens_hour_22",
            "t57"."opens_hour_23",
            "t57"."opens_weekday_0",
            "t57"."opens_weekday_1",
            "t57"."opens_weekday_2",
            "t57"."opens_weekday_3",
            "t57"."opens_weekday_4",
            "t57"."opens_weekday_5",
            "t57"."opens_weekday_6"
          FROM (
            SELECT
              "t51"."subscriber_id",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 0) AS INT) AS "opens_hour_00",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 1) AS INT) AS "opens_hour_01",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 2) AS INT) AS "opens_hour_02",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 3) AS INT) AS "opens_hour_03",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 4) AS INT) AS "opens_hour_04",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 5) AS INT) AS "opens_hour_05",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 6) AS INT) AS "opens_hour_06",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 7) AS INT) AS "opens_hour_07",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 8) AS INT) AS "opens_hour_08",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 9) AS INT) AS "opens_hour_09",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 10) AS INT) AS "opens_hour_10",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 11) AS INT) AS "opens_hour_11",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 12) AS INT) AS "opens_hour_12",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 13) AS INT) AS "opens_hour_13",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 14) AS INT) AS "opens_hour_14",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 15) AS INT) AS "opens_hour_15",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 16) AS INT) AS "opens_hour_16",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 17) AS INT) AS "opens_hour_17",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 18) AS INT) AS "opens_hour_18",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 19) AS INT) AS "opens_hour_19",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 20) AS INT) AS "opens_hour_20",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 21) AS INT) AS "opens_hour_21",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 22) AS INT) AS "opens_hour_22",
              CAST(COUNT(*) FILTER(WHERE
                (
                  "t51"."slot" % 24
                ) = 23) AS INT) AS "opens_hour_23",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 0) AS INT) AS "opens_weekday_0",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 1) AS INT) AS "opens_weekday_1",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 2) AS INT) AS "opens_weekday_2",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 3) AS INT) AS "opens_weekday_3",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 4) AS INT) AS "opens_weekday_4",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 5) AS INT) AS "opens_weekday_5",
              CAST(COUNT(*) FILTER(WHERE
                CAST(FLOOR((
                  "t51"."slot"
                ) / (
                  24
                )) AS BIGINT) = 6) AS INT) AS "opens_weekday_6"
            FROM (
              SELECT
                "t36"."subscriber_id",
                "t36"."ts",
                CAST((
                  (
                    (
                      CAST(FLOOR((
                        "t36"."epoch" + "t3"."offset_seconds"
                      ) / 86400) AS BIGINT) + 3
                    ) % 7
                  ) * 24
                ) + CAST(FLOOR((
                  (
                    "t36"."epoch" + "t3"."offset_seconds"
                  ) % 86400
                ) / 3600) AS BIGINT) AS SMALLINT) AS "slot"
              FROM (
                SELECT
                  "t24"."subscriber_id",
                  "t24"."ts",
                  "t24"."zone",
                  EPOCH(CAST("t24"."ts" AS TIMESTAMP)) AS "epoch",
                  CAST(FLOOR(EPOCH(CAST("t24"."ts" AS TIMESTAMP)) / 2592000) AS BIGINT) AS "period"
                FROM (
                  SELECT
                    "t15"."subscriber_id",
                    "t15"."ts",
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
                  ) AS "t15"
                  LEFT OUTER JOIN (
                    SELECT
                      "t0"."subscriber_id" AS "zone_owner",
                      "t0"."timezone" AS "zone_name"
                    FROM "subscribers" AS "t0"
                  ) AS "t5"
                    ON "t15"."subscriber_id" = "t5"."zone_owner"
                ) AS "t24"
              ) AS "t36"
              INNER JOIN "tz_offsets" AS "t3"
                ON "t36"."zone" = "t3"."offset_zone"
                AND "t36"."period" = "t3"."period"
                AND "t36"."epoch" >= "t3"."start"
                AND "t36"."epoch" < "t3"."end"
            ) AS "t51"
            GROUP BY
              1
          ) AS "t57"
        ) AS "t62"
          ON "t68"."subscriber_id" = "t62"."_key"
      ) AS "t69"
    ) AS "t71"
    LEFT OUTER JOIN (
      SELECT
        "t17"."subscriber_id" AS "_key",
        "t17"."timezone",
        "t17"."consent",
        "t17"."signup_at",
        "t17"."unsubscribed"
      FROM (
        SELECT
          "t12".*
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
        ) AS "t12"
      ) AS "t17"
    ) AS "t21"
      ON "t71"."subscriber_id" = "t21"."_key"
  ) AS "t72"
) AS "t73"
ORDER BY
  "t73"."subscriber_id" ASC
