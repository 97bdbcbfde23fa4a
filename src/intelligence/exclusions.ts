// Documented input exclusions. Real exports carry cancellations, returns, zero or negative quantities, missing
// customers and non-product lines; the models use only clean purchase signals and count every row they leave out,
// by reason, in the job report (nothing is dropped silently). See docs/intelligence.md.

/** Categories of lines that are not merchandise (shipping, fees, gift cards, ...), compared upper-cased. */
export const NON_PRODUCT_CATEGORIES = ['SHIPPING', 'DELIVERY', 'FEE', 'FEES', 'SERVICE', 'SERVICES', 'GIFT CARD', 'GIFT_CARD', 'GIFTCARD', 'DISCOUNT', 'TAX', 'WARRANTY', 'DEPOSIT'];

/** SQL predicate: the line is not a recommendable product. Columns PRODUCT_ID, CATEGORY, UNIT_PRICE, TOTAL_PRICE. */
export function nonProductLineSql(alias = ''): string {
  const p = alias ? `${alias}.` : '';
  const cats = NON_PRODUCT_CATEGORIES.map((c) => `'${c}'`).join(', ');
  return `(${p}PRODUCT_ID IS NULL OR trim(${p}PRODUCT_ID) = '' OR upper(trim(coalesce(${p}CATEGORY, ''))) IN (${cats})
    OR (coalesce(${p}UNIT_PRICE, 0) <= 0 AND coalesce(${p}TOTAL_PRICE, 0) <= 0))`;
}

/**
 * Reason a transaction row does not count as a purchase (NULL when it does), evaluated in this order. A zero amount
 * (fully discounted, free item) still counts as a purchase occasion, as in the CDNOW reference data.
 */
export const TRANSACTION_EXCLUSION_SQL = `CASE
    WHEN t.CUSTOMER360_ID IS NULL THEN 'missing_customer'
    WHEN t.TRANSACTION_DATE IS NULL THEN 'missing_date'
    WHEN coalesce(upper(t.TRANSACTION_TYPE), 'PURCHASE') <> 'PURCHASE' THEN 'not_a_purchase'
    WHEN coalesce(upper(t.TRANSACTION_STATUS), 'COMPLETED') <> 'COMPLETED' THEN 'not_completed'
    WHEN t.TOTAL_AMOUNT IS NULL THEN 'missing_amount'
    WHEN t.TOTAL_AMOUNT < 0 THEN 'negative_amount'
  END`;
