WITH "t5" AS (
  SELECT
    "t4"."subscriber_id",
    COUNT("t4"."day") AS "n_days",
    MIN("t4"."day") AS "first_day",
    MAX("t4"."day") AS "last_day",
    SUM("t4"."day_value") AS "total_value",
    FIRST("t4"."day_value" ORDER BY "t4"."day") AS "first_value"
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
  ) AS "t4"
  GROUP BY
    1
)
SELECT
  "t7"."subscriber_id",
  CAST("t7"."n_days" - 1 AS DOUBLE) AS "frequency",
  (
    "t7"."last_day" - "t7"."first_day"
  ) / 1 AS "recency",
  (
    19904 - "t7"."first_day"
  ) / 1 AS "T",
  CASE
    WHEN (
      "t7"."n_days" - 1
    ) > 0
    THEN GREATEST(
      (
        (
          "t7"."total_value" - "t7"."first_value"
        ) + COALESCE("t13"."later_refunds", 0.0)
      ) / (
        "t7"."n_days" - 1
      ),
      0.0
    )
    ELSE 0.0
  END AS "monetary_value"
FROM "t5" AS "t7"
LEFT OUTER JOIN (
  SELECT
    "t11"."subscriber_id",
    SUM("t11"."value") AS "later_refunds"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t3"."subscriber_id",
        "t3"."event_type",
        "t3"."ts",
        "t3"."campaign_id",
        "t3"."value",
        "t3"."machine_open",
        "t3"."properties",
        "t3"."day",
        "t9"."first_day"
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
          AND "t0"."event_type" = 'refund'
      ) AS "t3"
      INNER JOIN (
        SELECT
          "t6"."subscriber_id",
          "t6"."first_day"
        FROM "t5" AS "t6"
      ) AS "t9"
        ON "t3"."subscriber_id" = "t9"."subscriber_id"
    ) AS "t10"
    WHERE
      "t10"."day" > "t10"."first_day"
  ) AS "t11"
  GROUP BY
    1
) AS "t13"
  ON "t7"."subscriber_id" = "t13"."subscriber_id"
