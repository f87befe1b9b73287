// Request DTOs: the contract types of @bench/events, with validation and OpenAPI metadata.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  FIRMWARE_SELECTOR,
  ROLES,
  type CancelBatchRequest,
  type CancelRunRequest,
  type CreateBatchRequest,
  type CreateTokenRequest,
  type CreateUserRequest,
  type LoginRequest,
  type Role,
  type StartRunRequest,
  type UpdateUserRequest,
} from '@bench/events';
import { MIN_PASSWORD_LENGTH } from '@bench/persistence';

const ROLE_VALUES: Role[] = [...ROLES];
const RUN_STATES = ['queued', 'held', 'running', 'done', 'failed', 'cancelled'];
const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export class LoginDto implements LoginRequest {
  @ApiProperty() @IsString() @MaxLength(64) username!: string;
  @ApiProperty() @IsString() @MaxLength(256) password!: string;
}

/** Actions that take no input still reject unknown fields. */
export class EmptyDto {}

export class StartRunDto implements StartRunRequest {
  @ApiPropertyOptional({
    description: '"latest" (newest signed build for the model) or a build such as 22G100',
  })
  @IsOptional()
  @Matches(FIRMWARE_SELECTOR, { message: 'firmware must be "latest" or a build number such as 22G100' })
  firmware?: string;

  @ApiPropertyOptional({ enum: ['erase', 'update'] })
  @IsOptional()
  @IsIn(['erase', 'update'])
  behavior?: 'erase' | 'update';

  @ApiPropertyOptional({ description: 'a retry policy named in bench.config.yaml' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  policy?: string;
}

export class CancelRunDto implements CancelRunRequest {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) reason?: string;
}

export class CreateUserDto implements CreateUserRequest {
  @ApiProperty()
  @Matches(USERNAME, { message: 'username must be 1–64 letters, digits or _.@-' })
  username!: string;

  @ApiProperty({ minLength: MIN_PASSWORD_LENGTH })
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(256)
  password!: string;

  @ApiProperty({ enum: ROLE_VALUES }) @IsIn(ROLE_VALUES) role!: Role;
}

export class UpdateUserDto implements UpdateUserRequest {
  @ApiPropertyOptional({ enum: ROLE_VALUES }) @IsOptional() @IsIn(ROLE_VALUES) role?: Role;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() disabled?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(256)
  password?: string;
}

export class CreateTokenDto implements CreateTokenRequest {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(64) name!: string;
  @ApiPropertyOptional({ description: 'whose token (default: yours)' })
  @IsOptional()
  @IsString()
  userId?: string;

  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(3650) expiresInDays?: number;
}

export class RunsQueryDto {
  @ApiPropertyOptional({ enum: RUN_STATES }) @IsOptional() @IsIn(RUN_STATES) state?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() slotId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[0-9A-Fa-f]{1,16}$/, { message: 'ecid must be hexadecimal' })
  ecid?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() batchId?: string;
  @ApiPropertyOptional() @IsOptional() @IsISO8601() before?: string;

  @ApiPropertyOptional({ default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class SummaryQueryDto {
  @ApiPropertyOptional({ default: 24, description: 'window in hours' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 31)
  hours?: number;
}

export class CreateBatchDto implements CreateBatchRequest {
  @ApiProperty({ description: 'what the floor calls it, e.g. "Rack 3 overnight"' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiProperty({ description: '"latest" (newest signed build for each model) or a build such as 22G100' })
  @Matches(FIRMWARE_SELECTOR, { message: 'firmware must be "latest" or a build number such as 22G100' })
  firmware!: string;

  @ApiProperty({ enum: ['erase', 'update'] }) @IsIn(['erase', 'update']) behavior!: 'erase' | 'update';

  @ApiPropertyOptional({ type: [String], description: 'slot ids (at least one of slotIds and benchIds)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(2000)
  @IsString({ each: true })
  slotIds?: string[];

  @ApiPropertyOptional({ type: [String], description: 'bench ids: every slot of each' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  benchIds?: string[];

  @ApiPropertyOptional({ description: 'ISO 8601 time to start (absent: now)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'startAt must be an ISO 8601 time such as 2026-11-25T22:00:00Z' })
  startAt?: string;

  @ApiPropertyOptional({
    description: "a retry policy named in bench.config.yaml (absent: each bench's own)",
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  policy?: string;
}

export class CancelBatchDto implements CancelBatchRequest {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(200) reason?: string;
}
