SELECT
  "t6"."subscriber_id",
  "t6"."bucket",
  COUNT(*) AS "n"
FROM (
  SELECT
    "t5"."subscriber_id",
    "t5"."ts",
    CASE
      WHEN "t5"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      THEN 0
      WHEN "t5"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      THEN 1
      WHEN "t5"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      THEN 2
      ELSE 3
    END AS "bucket"
  FROM (
    SELECT
      "t3"."subscriber_id",
      "t3"."ts"
    FROM (
      SELECT
        "t0"."subscriber_id",
        "t0"."ts"
      FROM "events" AS "t0"
      WHERE
        "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
        AND "t0"."event_type" = 'cart_add'
        AND "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 29, 0, 0, 0.0, 'UTC')
    ) AS "t3"
    ANTI JOIN (
      SELECT
        "t0"."subscriber_id" AS "buyer_id",
        "t0"."ts" AS "purchase_ts"
      FROM "events" AS "t0"
      WHERE
        "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
        AND "t0"."event_type" = 'purchase'
    ) AS "t4"
      ON "t3"."subscriber_id" = "t4"."buyer_id"
      AND "t4"."purchase_ts" >= "t3"."ts"
      AND "t4"."purchase_ts" <= (
        "t3"."ts" + INTERVAL '86400' SECOND
      )
  ) AS "t5"
) AS "t6"
GROUP BY
  1,
  2
