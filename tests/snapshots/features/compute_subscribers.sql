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
