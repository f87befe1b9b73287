import { Controller, Injectable } from '@nestjs/common';
import { ApiTags, type OpenAPIObject } from '@nestjs/swagger';
import { Route } from '../auth/access';

/** Holds the OpenAPI document built at boot (main.ts), once every controller is known. */
@Injectable()
export class OpenApiDocument {
  document?: OpenAPIObject;
}

@ApiTags('meta')
@Controller('api')
export class OpenApiController {
  constructor(private readonly holder: OpenApiDocument) {}

  @Route('openapi', 'This API described as OpenAPI 3')
  get(): OpenAPIObject | undefined {
    return this.holder.document;
  }
}
