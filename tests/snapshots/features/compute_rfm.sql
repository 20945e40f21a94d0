SELECT
  "t3"."subscriber_id",
  CAST("t3"."n_days" - 1 AS DOUBLE) AS "frequency",
  (
    "t3"."last_day" - "t3"."first_day"
  ) / 1 AS "recency",
  (
    19904 - "t3"."first_day"
  ) / 1 AS "T",
  CASE
    WHEN (
      "t3"."n_days" - 1
    ) > 0
    THEN (
      "t3"."total_value" - "t3"."first_value"
    ) / (
      "t3"."n_days" - 1
    )
    ELSE 0.0
  END AS "monetary_value"
FROM (
  SELECT
    "t2"."subscriber_id",
    COUNT("t2"."day") AS "n_days",
    MIN("t2"."day") AS "first_day",
    MAX("t2"."day") AS "last_day",
    SUM("t2"."day_value") AS "total_value",
    FIRST("t2"."day_value" ORDER BY "t2"."day") AS "first_value"
  FROM (
    SELECT
      "t1"."subscriber_id",
      "t1"."day",
      COALESCE(SUM("t1"."value"), 0.0) AS "day_value"
    FROM (
      SELECT
        "t0"."subscriber_id",
        "t0"."event_type",
        "t0"."ts",
        "t0"."campaign_id",
        "t0"."value",
        COALESCE("t0"."machine_open", FALSE) AS "machine_open",
        CAST(NULL AS TEXT) AS "properties",
        CAST(FLOOR(EPOCH(CAST("t0"."ts" AS TIMESTAMP)) / 86400) AS BIGINT) AS "day"
      FROM "events" AS "t0"
      WHERE
        "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
        AND "t0"."event_type" = 'purchase'
    ) AS "t1"
    GROUP BY
      1,
      2
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
