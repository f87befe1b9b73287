import { plainToInstance } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, validate } from 'class-validator';
import { describeValidationErrors } from './validation-messages';

class BatchBody {
  @IsString()
  @Length(1, 100)
  name!: string;

  @IsIn(['erase', 'update'])
  behavior!: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(2000)
  slotIds?: string[];
}

/** The problems named for `body`, as the API's validation pipe validates it (unknown fields refused). */
async function problems(body: object): Promise<string[]> {
  const errors = await validate(plainToInstance(BatchBody, body), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  return describeValidationErrors(errors);
}

describe('validation messages', () => {
  const valid = { name: 'night', behavior: 'erase' };

  it('passes a valid body', async () => {
    expect(await problems(valid)).toEqual([]);
  });

  it('says a missing field is required, once', async () => {
    expect(await problems({ behavior: 'erase' })).toEqual(['name: required']);
  });

  it('names only the type when a field has the wrong type', async () => {
    expect(await problems({ ...valid, slotIds: 'all' })).toEqual(['slotIds: must be an array']);
    expect(await problems({ ...valid, name: 42 })).toEqual(['name: must be a string']);
  });

  it('names every other broken rule, and unknown fields', async () => {
    expect(await problems({ ...valid, name: '' })).toEqual([
      'name: must be longer than or equal to 1 characters',
    ]);
    expect((await problems({ ...valid, behavior: 'wipe', colour: 'red' })).sort()).toEqual([
      'behavior: must be one of the following values: erase, update',
      'colour: unknown field',
    ]);
  });
});
