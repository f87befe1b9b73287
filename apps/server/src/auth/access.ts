// Routes declare who may call them through the shared route table (@bench/events API_ROUTES):
// `@Route('floor')` sets the HTTP method and path, the role it needs, and its OpenAPI operation,
// so the server, the dashboard and the auth-matrix test cannot disagree.
import {
  applyDecorators,
  createParamDecorator,
  Delete,
  Get,
  Patch,
  Post,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation } from '@nestjs/swagger';
import type { Request } from 'express';
import { API_ROUTES, type ApiRouteName } from '@bench/events';
import type { AuthUser } from './auth.service';

export const ROUTE_ACCESS = 'bench:route-access';

const METHODS = { GET: Get, POST: Post, PATCH: Patch, DELETE: Delete } as const;

export function Route(name: ApiRouteName, summary?: string): MethodDecorator {
  const route = API_ROUTES[name];
  const decorators = [
    METHODS[route.method](route.path),
    SetMetadata(ROUTE_ACCESS, route.access),
    ApiOperation({
      operationId: name,
      summary,
      description: route.access === 'public' ? 'No credentials.' : `Needs the role ${route.access} or above.`,
    }),
  ];
  if (route.access !== 'public') decorators.push(ApiBearerAuth());
  return applyDecorators(...decorators);
}

export interface AuthedRequest extends Request {
  user?: AuthUser;
}

/** The authenticated caller (the guard has set it on every non-public route). */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const user = context.switchToHttp().getRequest<AuthedRequest>().user;
  if (!user) throw new Error('CurrentUser used on a public route');
  return user;
});
