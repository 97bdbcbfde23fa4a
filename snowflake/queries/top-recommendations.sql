-- Top recommendations: each person's top 10 products of the latest recommendation run, with product details and
-- the reason, per algorithm. Dialect-neutral (Snowflake and DuckDB).
SELECT
  r.CUSTOMER360_ID,
  r.ALGORITHM,
  r.RANK,
  r.PRODUCT_ID,
  p.PRODUCT_NAME,
  p.CATEGORY,
  p.BRAND,
  r.SCORE,
  r.REASON,
  r.MODEL_VERSION,
  r.AS_OF_DATE
FROM RECOMMENDATIONS.PRODUCT_RECOMMENDATIONS r
LEFT JOIN CUSTOMER_360.DIM_PRODUCT p ON p.PRODUCT_ID = r.PRODUCT_ID
WHERE r.AS_OF_DATE = (SELECT MAX(AS_OF_DATE) FROM RECOMMENDATIONS.PRODUCT_RECOMMENDATIONS)
  AND r.RANK <= 10
ORDER BY r.CUSTOMER360_ID, r.ALGORITHM, r.RANK
