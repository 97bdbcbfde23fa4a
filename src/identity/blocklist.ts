// Placeholder values that must never link two records: they are nulled for matching (the original value stays in
// Silver, flagged). Extendable per run through the overrides file (KIND=block).

export const PLACEHOLDER_EMAIL_LOCALS = [
  'test', 'testing', 'noemail', 'no-email', 'no.email', 'none', 'na', 'n.a', 'null', 'nil', 'unknown', 'noreply',
  'no-reply', 'donotreply', 'do-not-reply', 'example', 'sample', 'asdf', 'qwerty', 'xxx', 'abc', 'fake', 'dummy',
  'email', 'user', 'customer', 'nobody', 'anonymous', 'invalid', 'x', 'a',
] as const;

export const PLACEHOLDER_EMAIL_DOMAINS = [
  'example.com', 'example.org', 'example.net', 'test.com', 'test.org', 'testing.com', 'noemail.com', 'none.com',
  'fake.com', 'invalid.com', 'email.invalid', 'mailinator.com', 'nowhere.com', 'domain.com', 'unknown.com',
] as const;

/** Whole normalised emails that are placeholders although neither part alone is. */
export const PLACEHOLDER_EMAILS = ['test@test.com', 'a@a.com', 'abc@abc.com', 'no@no.com', 'x@x.com'] as const;

/** Phone numbers (digits only, any country prefix stripped by suffix match) that are placeholders. */
export const PLACEHOLDER_PHONE_DIGITS = [
  '5555555555', '1234567890', '0123456789', '9876543210', '1111111111', '0000000000', '9999999999', '5551234567',
  '8005551212', '1231231234',
] as const;

/** Name values that mean "no name". */
export const PLACEHOLDER_NAMES = [
  'unknown', 'unk', 'na', 'n a', 'none', 'null', 'nil', 'test', 'testing', 'xxx', 'xx', 'x', 'customer', 'guest',
  'anonymous', 'anon', 'noname', 'no name', 'tbd', 'fnu', 'lnu', 'mr', 'mrs', 'ms', 'dr', 'sample', 'dummy', 'asdf',
  'first', 'last', 'firstname', 'lastname', 'name',
] as const;

/** Generic values (any text field) that never count as agreement: 'unknown', 'n/a', ... after folding. */
export const PLACEHOLDER_TEXT = ['unknown', 'na', 'n a', 'none', 'null', 'nil', 'test', 'xxx', 'tbd', 'not applicable', 'not available'] as const;
