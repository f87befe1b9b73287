// How a request body's validation problems read (pure, so it is unit-tested without Nest): one
// line per problem, named by field.
import type { ValidationError } from 'class-validator';

/** Constraints that say what type a field must be: when one fails, its length or range is moot. */
const TYPE_CHECKS = new Set(['isString', 'isArray', 'isInt', 'isNumber', 'isBoolean', 'isObject']);

/** One line per problem; a missing field says `required`, a field of the wrong type only that. */
function problemsOf(error: ValidationError, field: string): string[] {
  const constraints = error.constraints ?? {};
  if (constraints.whitelistValidation) return [`${field}: unknown field`];
  if (Object.keys(constraints).length === 0) return [];
  if (error.value === undefined || error.value === null) return [`${field}: required`];
  const typeChecks = Object.keys(constraints).filter((key) => TYPE_CHECKS.has(key));
  const keys = typeChecks.length > 0 ? typeChecks : Object.keys(constraints);
  return keys.map((key) => `${field}: ${constraints[key].replace(new RegExp(`^${error.property} `), '')}`);
}

/** Each problem of a request body as `field: what is wrong`, nested fields dotted. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    return [...problemsOf(error, field), ...describeValidationErrors(error.children ?? [], field)];
  });
}
