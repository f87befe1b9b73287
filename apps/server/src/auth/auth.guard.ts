// The one gate of the HTTP API: every route needs a valid bearer token and a role at least the
// route's, except /health (PUBLIC_ROUTE) and login. A route that declares nothing is refused:
// forgetting the declaration must not open an endpoint.
import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE } from '@bench/app-runtime';
import { roleAllows, type RouteAccess } from '@bench/events';
import { ROUTE_ACCESS, type AuthedRequest } from './access';
import { AuthService } from './auth.service';
import { bearerToken } from '@bench/persistence';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, targets);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new UnauthorizedException('missing credentials: send Authorization: Bearer <token>');
    const user = await this.auth.authenticate(token);
    if (!user) throw new UnauthorizedException('invalid or expired token');
    request.user = user;
    if (!access) throw new ForbiddenException('this route declares no access rule');
    if (!roleAllows(user.role, access))
      throw new ForbiddenException(`needs the role ${access}; you are ${user.role}`);
    return true;
  }
}
