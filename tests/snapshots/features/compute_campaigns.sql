SELECT
  "t3"."subscriber_id",
  "t3"."bucket",
  COUNT(*) FILTER(WHERE
    "t3"."event_type" = 'open') AS "opened",
  COUNT(*) FILTER(WHERE
    "t3"."event_type" = 'click') AS "clicked"
FROM (
  SELECT
    "t2"."subscriber_id",
    "t2"."campaign_id",
    "t2"."event_type",
    "t2"."last_ts",
    CASE
      WHEN "t2"."last_ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      THEN 0
      WHEN "t2"."last_ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      THEN 1
      WHEN "t2"."last_ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      THEN 2
      ELSE 3
    END AS "bucket"
  FROM (
    SELECT
      "t1"."subscriber_id",
      "t1"."campaign_id",
      "t1"."event_type",
      MAX("t1"."ts") AS "last_ts"
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
        "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
        AND "t0"."campaign_id" IS NOT NULL
        AND (
          (
            (
              "t0"."event_type" = 'open'
            )
            AND NOT (
              COALESCE("t0"."machine_open", FALSE)
            )
          )
          OR (
            "t0"."event_type" = 'click'
          )
        )
    ) AS "t1"
    GROUP BY
      1,
      2,
      3
  ) AS "t2"
) AS "t3"
GROUP BY
  1,
  2
