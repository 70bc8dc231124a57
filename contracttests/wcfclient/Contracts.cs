// The AppSpace data contracts, as the service's .NET assembly declares
// them: shared by the WCF client (Probe.cs, make wcf-check) and the golden
// writer (Golden.cs, make dotnet-golden), so both speak the same contract.
using System.Collections.Generic;
using System.Runtime.Serialization;
using M = Nexus.AppSpace.Service.Contract.Messages;

namespace Nexus.AppSpace.Service.Contract.Messages {
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages")]
  public class Authentication { [DataMember] public string API; [DataMember] public string AccountId; [DataMember] public string Password; [DataMember] public string SecurityToken; [DataMember] public string Username; }
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages")]
  public class RequestBase { [DataMember] public Authentication Authentication; }
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages")]
  public class Error { [DataMember] public string Code; [DataMember] public string Message; [DataMember] public string StackTrace; }
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages")]
  public enum Status { [EnumMember] Failure = 0, [EnumMember] Success = 1 }
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages")]
  public class ResponseBase { [DataMember] public string DebugMessage; [DataMember] public List<Error> Errors; [DataMember] public Status Status; }
}
namespace Nexus.AppSpace.Service.Contract.Messages.Token {
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token")]
  public class TokenRequest : M.RequestBase {}
  [DataContract(Namespace="http://schemas.datacontract.org/2004/07/Nexus.AppSpace.Service.Contract.Messages.Token")]
  public class TokenResponse : M.ResponseBase { [DataMember] public string SecurityToken; }
}
