SELECT
  "t11"."subscriber_id",
  ARRAY_AGG("t11"."slot") FILTER(WHERE
    "t11"."slot" IS NOT NULL) AS "slots"
FROM (
  SELECT
    "t10"."subscriber_id",
    "t10"."ts",
    CAST((
      (
        (
          CAST(FLOOR((
            "t10"."epoch" + "t3"."offset_seconds"
          ) / 86400) AS BIGINT) + 3
        ) % 7
      ) * 24
    ) + CAST(FLOOR((
      (
        "t10"."epoch" + "t3"."offset_seconds"
      ) % 86400
    ) / 3600) AS BIGINT) AS SMALLINT) AS "slot"
  FROM (
    SELECT
      "t8"."subscriber_id",
      "t8"."ts",
      "t8"."zone",
      EPOCH(CAST("t8"."ts" AS TIMESTAMP)) AS "epoch",
      CAST(FLOOR(EPOCH(CAST("t8"."ts" AS TIMESTAMP)) / 2592000) AS BIGINT) AS "period"
    FROM (
      SELECT
        "t7"."subscriber_id",
        "t7"."ts",
        COALESCE("t5"."zone_name", 'UTC') AS "zone"
      FROM (
        SELECT
          "t1"."subscriber_id",
          "t1"."event_type",
          "t1"."ts",
          "t1"."campaign_id",
          "t1"."value",
          COALESCE("t1"."machine_open", FALSE) AS "machine_open",
          CAST(NULL AS TEXT) AS "properties"
        FROM "events" AS "t1"
        WHERE
          "t1"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
          AND "t1"."event_type" = 'open'
          AND NOT (
            COALESCE("t1"."machine_open", FALSE)
          )
      ) AS "t7"
      LEFT OUTER JOIN (
        SELECT
          "t2"."subscriber_id" AS "zone_owner",
          "t2"."timezone" AS "zone_name"
        FROM "subscribers" AS "t2"
      ) AS "t5"
        ON "t7"."subscriber_id" = "t5"."zone_owner"
    ) AS "t8"
  ) AS "t10"
  INNER JOIN "tz_offsets" AS "t3"
    ON "t10"."zone" = "t3"."offset_zone"
    AND "t10"."period" = "t3"."period"
    AND "t10"."epoch" >= "t3"."start"
    AND "t10"."epoch" < "t3"."end"
) AS "t11"
GROUP BY
  1
