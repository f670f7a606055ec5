/** API.md: a message body is 1 to 8,000 Unicode characters. */
export const MAX_BODY = 8000;
