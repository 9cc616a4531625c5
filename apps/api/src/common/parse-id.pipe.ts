import { Injectable, type PipeTransform } from '@nestjs/common';
import { assertId } from '@snapdeck/domain';

/** Malformed ids are BAD_USER_INPUT before any query runs. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    return assertId(value);
  }
}
