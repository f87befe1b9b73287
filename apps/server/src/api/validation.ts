// Request bodies and queries are validated against their DTO classes; unknown fields are
// rejected (a typo in a field name must not be silently ignored), and each problem is named.
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidationFailed } from './error-body.filter';

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      text.startsWith(`property ${error.property} should not exist`)
        ? `${field}: unknown field`
        : `${field}: ${text.replace(new RegExp(`^${error.property} `), '')}`,
    );
    return [...own, ...describe(error.children ?? [], field)];
  });
}

export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    // Off: it refuses DTOs without decorated fields (EmptyDto); whitelisting already refuses unknown fields.
    forbidUnknownValues: false,
    transform: true,
    exceptionFactory: (errors) => new ValidationFailed(describe(errors)),
  });
}
