import { Injectable } from '@nestjs/common';

/** The time stamps of outgoing messages; a class so tests can pin it. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
