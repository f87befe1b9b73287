import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { CreateTokenResponse, UserView } from '@bench/events';
import { DuplicateRecordError } from '@bench/persistence';
import { CurrentUser, Route } from '../auth/access';
import { AuthService, userView, type AuthUser } from '../auth/auth.service';
import { CreateTokenDto, CreateUserDto, UpdateUserDto } from './dto';

@ApiTags('admin')
@Controller('api')
export class AdminController {
  constructor(private readonly auth: AuthService) {}

  @Route('users')
  async users(): Promise<UserView[]> {
    return (await this.auth.users.list()).map(userView);
  }

  @Route('createUser')
  async createUser(@Body() body: CreateUserDto): Promise<UserView> {
    try {
      return userView(await this.auth.createUser(body.username, body.password, body.role));
    } catch (error) {
      if (error instanceof DuplicateRecordError) throw new ConflictException(error.message);
      throw error;
    }
  }

  @Route('updateUser', 'Change role, disable, or set a new password')
  async updateUser(
    @Param('userId') userId: string,
    @Body() body: UpdateUserDto,
    @CurrentUser() caller: AuthUser,
  ): Promise<UserView> {
    const user = await this.auth.users.find(userId);
    if (!user) throw new NotFoundException(`no user ${userId}`);
    // An admin locking themself out would leave nobody to undo it.
    if (user.id === caller.id && (body.disabled === true || (body.role && body.role !== 'admin')))
      throw new BadRequestException('you cannot disable yourself or drop your own admin role');
    if (body.password) await this.auth.setPassword(user.id, body.password);
    const updated = await this.auth.users.update(user.id, { role: body.role, disabled: body.disabled });
    return userView(updated);
  }

  @Route('tokens', 'API tokens (never their secret)')
  async tokens() {
    return (await this.auth.users.listTokens()).map((token) => ({
      id: token.id,
      name: token.name,
      username: token.user.username,
      createdAt: token.createdAt.toISOString(),
      lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
      expiresAt: token.expiresAt?.toISOString() ?? null,
    }));
  }

  @Route('createToken', 'Create an API token for scripts; its secret is shown only in this answer')
  async createToken(
    @Body() body: CreateTokenDto,
    @CurrentUser() caller: AuthUser,
  ): Promise<CreateTokenResponse> {
    const userId = body.userId ?? caller.id;
    if (!(await this.auth.users.find(userId))) throw new NotFoundException(`no user ${userId}`);
    return this.auth.createToken(userId, body.name, body.expiresInDays);
  }

  @Route('revokeToken')
  @HttpCode(204)
  async revokeToken(@Param('tokenId') tokenId: string): Promise<void> {
    if (!(await this.auth.users.revokeToken(tokenId))) throw new NotFoundException(`no token ${tokenId}`);
  }
}
