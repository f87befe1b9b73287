// Request bodies and queries are validated against their DTO classes; unknown fields are
// rejected (a typo in a field name must not be silently ignored), and each problem is named.
import { ValidationPipe } from '@nestjs/common';
import { ValidationFailed } from './error-body.filter';
import { describeValidationErrors } from './validation-messages';

export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    // Off: it refuses DTOs without decorated fields (EmptyDto); whitelisting already refuses unknown fields.
    forbidUnknownValues: false,
    transform: true,
    exceptionFactory: (errors) => new ValidationFailed(describeValidationErrors(errors)),
  });
}
