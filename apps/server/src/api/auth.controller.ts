import { Body, Controller, HttpCode, Req, UnauthorizedException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { LoginResponse, UserView } from '@bench/events';
import { CurrentUser, Route, type AuthedRequest } from '../auth/access';
import { AuthService, userView, type AuthUser } from '../auth/auth.service';
import { bearerToken } from '@bench/persistence';
import { LoginDto } from './dto';

@ApiTags('auth')
@Controller('api')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Route('login', 'Log in with a username and password; answers a bearer token')
  @HttpCode(200)
  async login(@Body() body: LoginDto): Promise<LoginResponse> {
    const result = await this.auth.login(body.username, body.password);
    if (!result) throw new UnauthorizedException('wrong username or password');
    return result;
  }

  @Route('logout', 'Revoke the token of this request')
  @HttpCode(204)
  async logout(@Req() request: AuthedRequest): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    if (token) await this.auth.logout(token);
  }

  @Route('me', 'Who the token belongs to')
  async me(@CurrentUser() user: AuthUser): Promise<UserView> {
    const row = await this.auth.users.find(user.id);
    if (!row) throw new UnauthorizedException('the user of this token no longer exists');
    return userView(row);
  }
}
