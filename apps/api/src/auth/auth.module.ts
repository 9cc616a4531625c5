import { Global, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminBootstrap } from './admin-bootstrap.service.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { FailedAuthenticationLimiter } from './failed-authentication.limiter.js';
import { FailedAuthentications } from './failed-authentications.js';
import { OpenSockets } from './open-sockets.service.js';

@Global()
@Module({
  providers: [
    AuthService,
    AdminBootstrap,
    OpenSockets,
    FailedAuthentications,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService, OpenSockets, FailedAuthentications],
})
export class AuthModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // Nest's middleware runs before Apollo's, which is mounted later, when the GraphQL module starts.
    consumer.apply(FailedAuthenticationLimiter).forRoutes({ path: 'graphql', method: RequestMethod.ALL });
  }
}
